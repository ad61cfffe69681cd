"""A query of one root field, run without graphql-core's per-operation machinery.

Most requests are one root field (``artifact(path) { ... }``). For them graphql-core's
``execute`` builds the executor (checks the schema, walks the document's definitions,
picks the operation), collects the root fields, runs ``execute_fields`` and
``execute_field`` (resolve info, arguments, strawberry's resolver wrapper with its
argument conversion and extension chain) and awaits the field through three coroutine
layers of its own: a fifth of a one-hop query's server time, the same for every request
of the document. A ``RootPlan`` is what of that depends on the document alone, worked out
once per cached document and operation; each request then coerces its variables, makes
the executor directly, calls the field's resolver as strawberry would (its arguments by
their Python names, its info) and hands the value to the executor's ``complete_value``,
which completes it as always (the fast executor's plans, and graphql-core's path with its
errors for everything they do not cover). Errors are handled as ``execute_field`` handles
them: located at the field, the field null, or the whole data null for a non-null field.

Anything else takes ``execute``: several root fields, fragments or directives at the
root, directives anywhere in the document, a mutation or subscription, introspection,
a resolver that is not a plain async function of simple arguments, a field with
extensions or permission classes, variables that do not coerce (``execute`` reports
them). tests/resolvers/test_execution.py compares both paths' answers.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, cast

import strawberry
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails
from graphql.execution.executor import default_field_resolver, default_type_resolver
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
    input_is_nested_too_deeply,
)
from graphql.pyutils import Path
from graphql.utilities.coerce_input_value import coerce_input_value
from strawberry.execution import optimized_is_awaitable

from resolvers.batching import SIMPLE_ARGUMENTS
from resolvers.document_facts import shareable
from resolvers.execution_guard import STRAWBERRY_DEFINITION


@dataclass(frozen=True, slots=True)
class RootPlan:
    """What a request of the document needs to run its one root field directly."""

    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    root_type: GraphQLObjectType
    key: str  # the response key
    details: list[FieldDetails]
    nodes: list[FieldNode]
    field_def: GraphQLField
    definition: Any  # strawberry's field
    with_self: bool
    # GraphQL argument name -> the resolver's parameter
    python_names: dict[str, str]
    info_name: str | None
    # the field's type when it is an object type (nullable or not), else None
    object_type: GraphQLObjectType | None
    # the operation's variables (name, signature) when none has a default, else None
    variables: tuple[tuple[str, GraphQLVariableSignature], ...] | None


def root_plan(schema: Any, prepared: Any, operation_name: str | None) -> RootPlan | None:
    """The plan of the (cached) document's operation, or None: ``execute`` runs it."""
    plans = getattr(prepared, "plans", None)
    if not isinstance(plans, dict):
        return None
    cache_key: Hashable = ("root plan", operation_name)
    if cache_key in plans:
        return cast("RootPlan | None", plans[cache_key])
    operation = _operation(prepared.document, operation_name)
    if operation is None:
        return None  # not kept: a request may name any operation (execute reports it)
    plan = plans[cache_key] = _make(schema, prepared, operation)
    return plan


def _operation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    named = [o for o in operations if o.name is not None and o.name.value == name]
    return named[0] if len(named) == 1 else None


def _make(schema: Any, prepared: Any, operation: OperationDefinitionNode) -> RootPlan | None:
    gql_schema: GraphQLSchema = schema._schema
    document = prepared.document
    if operation.operation is not OperationType.QUERY or not shareable(prepared):
        return None
    if getattr(schema.schema_converter, "_exception_handler_specs", None):
        return None  # strawberry's resolver wrapper turns some errors into results
    selections = operation.selection_set.selections
    root_type = gql_schema.query_type
    if len(selections) != 1 or not isinstance(selections[0], FieldNode) or root_type is None:
        return None
    node = selections[0]
    field_def = root_type.fields.get(node.name.value)
    if field_def is None:  # introspection (__typename, __schema, __type) among others
        return None
    definition: Any = (field_def.extensions or {}).get(STRAWBERRY_DEFINITION)
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or definition.extensions
        or definition.permission_classes
        or not resolver.is_async
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or not isinstance(get_named_type(field_def.type), GraphQLObjectType)
    ):
        return None
    python_names = {}
    for name, argument in field_def.args.items():
        python = (argument.extensions or {}).get(STRAWBERRY_DEFINITION)
        if get_named_type(argument.type).name not in SIMPLE_ARGUMENTS or python is None:
            return None
        python_names[name] = python.python_name
    fragment_definitions = {}
    fragments = {}
    for definition_node in document.definitions:
        if isinstance(definition_node, FragmentDefinitionNode):
            if definition_node.variable_definitions:
                return None  # fragment variables: execute checks their signatures
            fragment_definitions[definition_node.name.value] = definition_node
            fragments[definition_node.name.value] = FragmentDetails(definition_node, None)
    info = resolver.info_parameter
    variables: list[tuple[str, GraphQLVariableSignature]] | None = []
    for var_def in operation.variable_definitions or ():
        signature = get_variable_signature(gql_schema, var_def)
        if isinstance(signature, GraphQLError) or signature.default is not None:
            variables = None  # get_variable_values decides
            break
        variables.append((signature.name, signature))  # type: ignore[union-attr]
    return RootPlan(
        operation=operation,
        fragment_definitions=fragment_definitions,
        fragments=fragments,
        root_type=root_type,
        key=node.alias.value if node.alias else node.name.value,
        details=[FieldDetails(node, None)],
        nodes=[node],
        field_def=field_def,
        definition=definition,
        with_self=resolver.self_parameter is not None,
        python_names=python_names,
        info_name=None if info is None else info.name,
        object_type=_object_type(field_def.type),
        variables=None if variables is None else tuple(variables),
    )


def _object_type(field_type: Any) -> GraphQLObjectType | None:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    return inner if isinstance(inner, GraphQLObjectType) else None


async def run_root_plan(
    plan: RootPlan,
    schema: Any,
    variables: dict[str, Any] | None,
    context: Any,
) -> ExecutionResult | None:
    """The answer, as ``execute`` would give it; None when the variables do not coerce
    (``execute`` reports that)."""
    gql_schema = schema._schema
    variable_values = _coerced(plan, variables or {})
    if variable_values is None:
        found = get_variable_values(
            gql_schema, plan.operation.variable_definitions or (), variables or {}
        )
        if isinstance(found, list):
            return None
        variable_values = found
    executor = schema.execution_context_class(
        gql_schema,
        plan.fragment_definitions,
        plan.fragments,
        None,
        context,
        plan.operation,
        variable_values,
        default_field_resolver,
        default_type_resolver,
        default_field_resolver,
        is_awaitable=optimized_is_awaitable,
    )
    field_def = plan.field_def
    return_type = field_def.type
    path = Path(None, plan.key, plan.root_type.name)
    info = executor.build_resolve_info(field_def, plan.nodes, plan.root_type, path)
    try:
        kwargs: dict[str, Any] = {}
        if field_def.args or plan.nodes[0].arguments:
            values = get_argument_values(field_def, plan.nodes[0], variable_values)
            kwargs = {plan.python_names[name]: value for name, value in values.items()}
        if plan.info_name is not None:
            kwargs[plan.info_name] = strawberry.Info(_raw_info=info, _field=plan.definition)
        resolver = plan.definition.base_resolver
        value = await (resolver(None, **kwargs) if plan.with_self else resolver(**kwargs))
        object_type = plan.object_type
        if (
            object_type is not None
            and value is not None
            and (object_type.is_type_of is None or object_type.is_type_of(value, info) is True)
            and not isinstance(value, Exception)
        ):
            # what complete_value -> complete_object_value -> collect_and_execute_subfields
            # come to for an object that is what the type says
            grouped, new_defer_usages, _ = executor.collect_subfields(object_type, plan.details)
            completed = executor.execute_collected_subfields(
                object_type, value, path, grouped, new_defer_usages, None
            )
        else:
            completed = executor.complete_value(return_type, plan.details, info, path, value, None)
        if executor.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:  # noqa: BLE001 - as execute_field handles it
        try:
            executor.handle_field_error(raw_error, return_type, plan.details, path)
        except GraphQLError as error:  # a non-null field: no data at all
            executor.collected_errors.add(error, None)
            return cast("ExecutionResult", executor.build_response(None))
        completed = None
    return cast("ExecutionResult", executor.build_response({plan.key: completed}))


def _coerced(plan: RootPlan, inputs: dict[str, Any]) -> VariableValues | None:
    """The variables as graphql-core's coerce_variable_values coerces them, with the
    signatures read once per document; None for anything but a clean coercion of
    variables without defaults (get_variable_values then decides, and words errors)."""
    if plan.variables is None:
        return None
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for name, signature in plan.variables:
        value = inputs.get(name, Undefined)
        if value is Undefined:
            if isinstance(signature.type, GraphQLNonNull):
                return None
            sources[name] = VariableValueSource(signature)
            continue
        sources[name] = VariableValueSource(signature, value)
        if input_is_nested_too_deeply(value, signature.type):
            return None
        coerced_value = coerce_input_value(value, signature.type)
        if coerced_value is Undefined:
            return None
        coerced[name] = coerced_value
    return VariableValues(sources, coerced)
