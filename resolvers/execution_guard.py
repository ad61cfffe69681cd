"""What the fast executor (resolvers/execution.py) relies on in graphql-core and
strawberry, checked when it is imported.

The executor overrides methods graphql-core marks private and reads strawberry's
internals; neither library promises to keep them. An upgrade that changes one of them
must stop the server at start-up with a message naming what changed, not make it answer
wrongly. ``LINEAGE_FAST_EXECUTION=0`` serves through graphql-core's own path, which never
imports the executor, until it is adapted.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Annotated

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, GraphQLUnionType
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.fields import PLAIN_GETTER, computed_field

# where strawberry keeps a GraphQL type's or field's own definition (its extensions)
STRAWBERRY_DEFINITION = "strawberry-definition"

# the methods the executor overrides or calls, by parameter names
EXPECTED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "complete_iterable_value": (
        "self", "item_type", "field_details_list", "info", "path", "items", "position_context",
    ),
    "execute_collected_subfields": (
        "self", "parent_type", "source_value", "path", "grouped_field_set", "new_defer_usages",
        "delivery_group_map",
    ),
    "collect_subfields": ("self", "return_type", "field_details_list"),
    "build_resolve_info": ("self", "field_def", "field_nodes", "parent_type", "path"),
    # resolvers/root_plan.py: a query's one root field, as execute_field runs it
    "complete_value": (
        "self", "return_type", "field_details_list", "info", "path", "result", "position_context",
    ),
    "handle_field_error": ("self", "raw_error", "return_type", "field_details_list", "path"),
    "build_response": ("self", "data"),
}  # fmt: skip
# what the executor reads off itself (set by graphql-core's constructor)
EXPECTED_ATTRIBUTES = ("middleware_manager", "is_awaitable")
# what it reads off strawberry's field definitions
FIELD_ATTRIBUTES = ("base_resolver", "extensions", "permission_classes", "python_name", "metadata")
# what it reads off a resolver it calls for many objects at once (the batched fields)
RESOLVER_ATTRIBUTES = (
    "is_async", "self_parameter", "info_parameter", "root_parameter", "parent_parameter",
)  # fmt: skip


class IncompatibleLibraries(RuntimeError):
    """graphql-core or strawberry no longer has what the fast executor relies on."""


ContextClass = type[StrawberryGraphQLCoreExecutionContext]


def check_libraries(context_class: ContextClass = StrawberryGraphQLCoreExecutionContext) -> None:
    """Raise IncompatibleLibraries unless everything the executor uses is as expected."""
    problems = _executor_problems(context_class) + _strawberry_problems()
    if problems:
        raise IncompatibleLibraries(
            "the fast executor (resolvers/execution.py) does not fit graphql-core "
            f"{version('graphql-core')} with strawberry-graphql "
            f"{version('strawberry-graphql')}: " + "; ".join(problems) + ". Adapt it to "
            "these versions, install the versions pyproject.toml names, or set "
            "LINEAGE_FAST_EXECUTION=0 to serve through graphql-core's own path."
        )


def _executor_problems(context_class: ContextClass) -> list[str]:
    problems = []
    for name, expected in EXPECTED_PARAMETERS.items():
        method = getattr(context_class, name, None)
        found = tuple(inspect.signature(method).parameters) if callable(method) else None
        if found != expected:
            takes = f"takes ({', '.join(found)})" if found is not None else "is gone"
            problems.append(f"{name} {takes}, expected ({', '.join(expected)})")
    if CollectedFields._fields[:2] != ("grouped_field_set", "new_defer_usages"):
        problems.append(f"collect_subfields returns {CollectedFields._fields}")
    if FieldDetails._fields[:1] != ("node",):
        problems.append(f"a field group holds {FieldDetails._fields}, not nodes first")
    constructors = [
        inspect.signature(vars(cls)["__init__"]).parameters
        for cls in context_class.__mro__
        if "__init__" in vars(cls)
    ]
    for attribute in EXPECTED_ATTRIBUTES:
        if not any(attribute in parameters for parameters in constructors):
            problems.append(f"the execution context is no longer given {attribute}")
    return problems


@strawberry.type(name="ProbeRun")
class _ProbeRun:
    name: str = computed_field(lambda _: "probe")

    @strawberry.field
    async def page(self, info: strawberry.Info, first_items: int = 1) -> int:
        return first_items


@strawberry.type(name="ProbeArtifact")
class _ProbeArtifact:
    size: int


@strawberry.type(name="ProbeQuery")
class _ProbeQuery:
    node: Annotated[_ProbeRun | _ProbeArtifact, strawberry.union("ProbeNode")]


def _strawberry_problems() -> list[str]:
    """What a schema strawberry builds looks like: the GraphQL schema behind it, the
    definitions behind its types and fields, its unions' type resolvers."""
    graphql_schema = getattr(strawberry.Schema(_ProbeQuery), "_schema", None)
    if not isinstance(graphql_schema, GraphQLSchema):
        return ["strawberry.Schema keeps no graphql-core schema in _schema"]
    problems = []
    run = graphql_schema.type_map.get("ProbeRun")
    definition = (run.extensions or {}).get(STRAWBERRY_DEFINITION) if run else None
    if (
        not isinstance(run, GraphQLObjectType)
        or getattr(definition, "origin", None) is not _ProbeRun
    ):
        problems.append(f'object types carry no extensions["{STRAWBERRY_DEFINITION}"].origin')
    else:
        field = (run.fields["name"].extensions or {}).get(STRAWBERRY_DEFINITION)
        missing = [name for name in FIELD_ATTRIBUTES if not hasattr(field, name)]
        if field is None:
            problems.append(f'fields carry no extensions["{STRAWBERRY_DEFINITION}"]')
        elif missing:
            problems.append(f"field definitions lack {', '.join(missing)}")
        elif PLAIN_GETTER not in (field.metadata or {}):
            problems.append("field definitions lose their metadata")
        problems += _resolver_problems(run)
    union = graphql_schema.type_map.get("ProbeNode")
    resolve_type = getattr(union, "resolve_type", None)
    if not isinstance(union, GraphQLUnionType) or not callable(resolve_type):
        problems.append("unions have no resolve_type")
    elif len(inspect.signature(resolve_type).parameters) != 3:
        problems.append(f"a union's resolve_type takes {inspect.signature(resolve_type)}")
    return problems


def _resolver_problems(run: GraphQLObjectType) -> list[str]:
    """How a batched field's resolver is called: its parameters, its arguments' Python
    names, and the Info strawberry would give it."""
    page = run.fields.get("page")
    field = (page.extensions or {}).get(STRAWBERRY_DEFINITION) if page else None
    resolver = getattr(field, "base_resolver", None)
    missing = [name for name in RESOLVER_ATTRIBUTES if not hasattr(resolver, name)]
    if page is None or resolver is None or missing:
        return [f"resolvers lack {', '.join(missing) or 'their definition'}"]
    problems = []
    if resolver.self_parameter is None or getattr(resolver.info_parameter, "name", None) != "info":
        problems.append("resolvers no longer name their self and info parameters")
    argument = page.args.get("firstItems")
    python = (argument.extensions or {}).get(STRAWBERRY_DEFINITION) if argument else None
    if getattr(python, "python_name", None) != "first_items":
        problems.append("arguments carry no strawberry definition with their Python name")
    if tuple(inspect.signature(strawberry.Info).parameters) != ("_raw_info", "_field"):
        problems.append(f"strawberry.Info takes {inspect.signature(strawberry.Info)}")
    return problems
