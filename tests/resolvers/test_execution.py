"""resolvers.execution's FastExecutionContext answers exactly as graphql-core's normal path.

The fast path completes flat objects, and whole lists of them, without graphql-core's
per-field machinery, and must fall back whenever that would change the answer. Each test
runs the same document through the fast context and through strawberry's default one and
compares ``data`` and the formatted ``errors``: on a real lineage graph through the
project's schema built both ways (``LINEAGE_FAST_EXECUTION`` on and off), on a small
schema built here for the fallbacks (nulls in non-null fields, enums, unexpected classes,
unserializable values, ``__typename``, types that do not opt in, permission classes, an
extension with a resolve hook), and a count of graphql-core's ``complete_value`` calls
shows the fast path is really taken. The import check (execution_guard.py) is shown to
refuse a graphql-core whose methods changed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from enum import Enum
from importlib.metadata import version
from types import SimpleNamespace
from typing import Annotated, Any, NewType

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.execution import fast_execution_context, speed_up_unions
from resolvers.execution_guard import IncompatibleLibraries, check_libraries
from resolvers.schema import lineage_schema
from server.context import Context
from server.db.database import Database
from server.domain.accounts import authenticate
from server.settings import Settings
from tests.fixtures.service import Api, running_api
from tests.resolvers.lineage.lab import Lab, small_pipeline

Outcome = tuple[Any, list[dict[str, Any]], str]


def outcome(result: Any) -> Outcome:
    """data, errors, and data as JSON text: keys must come in the order selected too."""
    return result.data, [error.formatted for error in result.errors or []], json.dumps(result.data)


def count_completions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """calls[0] counts complete_value calls: one per field and list item on the normal path."""
    calls = [0]
    original = StrawberryGraphQLCoreExecutionContext.complete_value

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "complete_value", counting)
    return calls


# -- the project's schema on a real lineage graph -----------------------------------

NODES = """query($p: String!, $d: Int! = 10) { artifact(path: $p) { lineage(depth: $d) {
  truncated edges { source target kind }
  nodes { __typename
    ... on Run { id runId runName: name path runState: state createdAt config }
    ... on Artifact { id name version versionIndex path state size digest description } } } } }"""

QUERIES = {
    "nodes": NODES,
    "aliases": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      e: edges { k: kind from: source }
      n: nodes { t: __typename ... on Run { r: runId rs: state }
                 ... on Artifact { a: name v: version as: state t2: __typename } } } } }""",
    "resolver fields": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      edges { kind } nodes { ... on Run { runId project { name } } ... on Artifact { name version } }
    } } }""",
    "nested resolvers": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      nodes { ... on Artifact { name loggedBy { runId state } collection { name } } } } } }""",
    "fragments twice": """fragment R on Run { runId state }
      fragment A on Artifact { name version }
      query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
        nodes { ...R ...A ...R ... on Run { runId } ...A } } } }""",
    "directives": """query($p: String!, $yes: Boolean!) { artifact(path: $p) { lineage(depth: 10) {
      edges { kind @include(if: $yes) source @skip(if: true) }
      nodes { __typename @skip(if: false) ... on Run { runId state @include(if: false) }
              ... on Artifact @include(if: $yes) { name version @include(if: $yes) } } } } }""",
    "connections": """query($p: String!, $r: String!) {
      artifact(path: $p) { usedBy { totalCount edges { cursor node { runId name state } }
                                     pageInfo { hasNextPage endCursor } } }
      run(path: $r) { loggedArtifacts(first: 1) { edges { node { name version state } }
                                                  pageInfo { hasNextPage endCursor } }
                      project { runs { edges { node { runId path state } } } } } }""",
    "an error": """query($p: String!) { artifact(path: $p) { name lineage(depth: -1) {
      nodes { __typename } } } }""",
    # resolver fields selected on many objects: called in batches on the fast path
    "nested connections": """query($p: String!, $f: Int!) { artifact(path: $p) {
      loggedBy { runId loggedArtifacts(first: $f) { totalCount edges { node { name
        usedBy(first: 1) { totalCount edges { cursor node { runId } }
                           pageInfo { hasNextPage endCursor } } } } } }
      usedBy { edges { node { runId usedArtifacts { edges { node { name version
        loggedBy { runId project { name } } } } } } } } } }""",
    "batched errors": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      nodes { ... on Artifact { name usedBy(first: 5000) { edges { node { runId } } } }
              ... on Run { runId loggedArtifacts(after: "garbage") { totalCount } } } } } }""",
}


@pytest.fixture
async def lab(api: Api, make_user: Any) -> Lab:
    return await small_pipeline(api, await make_user("x"))


@pytest.mark.parametrize("name", QUERIES)
async def test_the_project_schema_answers_as_the_normal_path(
    name: str, lab: Lab, db: Database, settings: Settings
) -> None:
    viewer = await authenticate(db, f"Bearer {lab.key}")
    variables = {"p": lab.art("raw"), "r": lab.run_path("train"), "yes": True, "f": 2}

    async def run(schema: strawberry.Schema) -> Outcome:
        # a fresh context each time: loaders cache per request
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        return outcome(await schema.execute(QUERIES[name], variables, context_value=context))

    fast = await run(lineage_schema(fast_execution=True))
    assert await run(lineage_schema(fast_execution=False)) == fast
    assert fast[0], fast
    assert bool(fast[1]) == (name in ("an error", "batched errors")), fast


# requests the endpoint refuses after preparing the document: validation and variables
REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "unknown field": ("query($p: String!) { artifact(path: $p) { nope } }", {"p": "x"}),
    "missing variable": ("query($p: String!) { artifact(path: $p) { name } }", {}),
    "wrong variable type": (
        "query($p: String!, $d: Int!) { artifact(path: $p) { lineage(depth: $d) { truncated } } }",
        {"p": "x", "d": "deep"},
    ),
    "null for non-null": ("query($p: String!) { artifact(path: $p) { name } }", {"p": None}),
    "not found": ("query($p: String!) { artifact(path: $p) { name } }", {"p": "no/such/thing:v0"}),
    "two operations": ("query A { viewer { username } } query B { __typename }", {}),
}


@pytest.mark.parametrize("name", [*QUERIES, *REFUSED])
async def test_the_endpoint_executes_a_prepared_document_as_strawberry_does(
    name: str, lab: Lab, db: Database, settings: Settings
) -> None:
    """The served schema hands the endpoint's prepared document to graphql-core itself,
    without strawberry's per-request wrapper: the same data (keys in order) and errors as
    strawberry's execute on the plain schema, on a first and a later (cached) execution."""
    from server.http.documents import DocumentCache, prepare_document

    viewer = await authenticate(db, f"Bearer {lab.key}")
    if name in QUERIES:
        query = QUERIES[name]
        variables = {"p": lab.art("raw"), "r": lab.run_path("train"), "yes": True, "f": 2}
    else:
        query, variables = REFUSED[name]
    operation = "B" if name == "two operations" else None
    prepared = await prepare_document(query, DocumentCache())
    fast = lineage_schema(fast_execution=True)
    plain = lineage_schema(fast_execution=False)
    assert fast.direct
    assert not plain.direct

    def context() -> Context:
        return Context(db=db, viewer=viewer, settings=settings, request_id="t", document=prepared)

    expected = outcome(await plain.execute(query, variables, context(), operation_name=operation))
    for _ in range(2):
        got = await fast.execute_prepared(prepared, variables, context(), operation)
        assert outcome(got) == expected
    answered = ("not found", "two operations")
    errors = name in REFUSED or name in ("an error", "batched errors")
    assert bool(expected[1]) == (errors and name not in answered), expected
    # the plain schema's execute_prepared is strawberry's execute
    got = await plain.execute_prepared(prepared, variables, context(), operation)
    assert outcome(got) == expected


SHARED = """query($p: String!, $f: Int!) { artifact(path: $p) {
  name loggedBy { runId loggedArtifacts(first: $f) { edges { node { name version } } } }
  usedBy(first: $f) { edges { node { runId } } }
  lineage(depth: 10) { nodes { ... on Run { runId } ... on Artifact { name } } } } }"""


@pytest.mark.parametrize("directives", [False, True])
async def test_later_executions_of_a_cached_document_answer_as_the_normal_path(
    lab: Lab, db: Database, settings: Settings, directives: bool
) -> None:
    """The plans of a cached document serve its later executions: with other variables
    (arguments of batched fields), other paths and another viewer, each answer is still
    the normal path's. A document with directives plans each execution afresh."""
    from server.http.documents import DocumentCache, prepare_document

    query = SHARED
    if directives:
        query = query.replace("version }", "version @include(if: $yes) }").replace(
            "$f: Int!)", "$f: Int!, $yes: Boolean!)"
        )
    prepared = await prepare_document(query, DocumentCache())
    other = await authenticate(db, f"Bearer {lab.key}")
    runs = [
        ({"p": lab.art("raw"), "f": 1, "yes": True}, other),
        ({"p": lab.art("model", "v1"), "f": 2, "yes": False}, other),
        ({"p": lab.art("raw"), "f": 0, "yes": False}, None),
        ({"p": lab.art("raw"), "f": 5000, "yes": True}, other),  # BAD_USER_INPUT
        ({"p": lab.art("model"), "f": 3, "yes": True}, other),
    ]
    for variables, viewer in runs:
        answers = []
        for fast in (True, False):
            context = Context(
                db=db, viewer=viewer, settings=settings, request_id="t", document=prepared
            )
            schema = lineage_schema(fast_execution=fast)
            answers.append(outcome(await schema.execute(query, variables, context_value=context)))
        assert answers[0] == answers[1], variables
        assert bool(answers[0][1]) == (variables["f"] == 5000), answers[0]
    shared = [k for k in prepared.plans if k != "shareable"]
    assert prepared.plans["shareable"] is not directives
    assert bool(shared) is not directives


async def test_lineage_nodes_and_edges_take_the_fast_path(
    lab: Lab, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = await authenticate(db, f"Bearer {lab.key}")
    calls = count_completions(monkeypatch)

    async def count(depth: int, fast: bool = True) -> tuple[int, Any]:
        calls[0] = 0
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        variables = {"p": lab.art("raw"), "d": depth}
        schema = lineage_schema(fast_execution=fast)
        data, errors, _ = outcome(await schema.execute(NODES, variables, context_value=context))
        assert not errors
        return calls[0], data["artifact"]["lineage"]

    alone, start = await count(0)  # the start node only, no edges
    whole, graph = await count(10)
    assert (len(start["nodes"]), len(graph["nodes"]), len(graph["edges"])) == (1, 7, 7)
    # graphql-core completes nothing per node or edge: the lists were done in one go
    assert whole == alone
    assert (await count(10, fast=False))[0] > 10 * whole  # one call per node, edge and field


async def test_the_setting_turns_the_fast_path_off(
    lab: Lab, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LINEAGE_FAST_EXECUTION=0 reaches the served app: same answer, graphql-core's path."""
    assert Settings.from_env({"LINEAGE_FAST_EXECUTION": "0"}).fast_execution is False
    assert Settings.from_env({}).fast_execution is True
    with pytest.raises(ValueError, match="LINEAGE_FAST_EXECUTION"):
        Settings.from_env({"LINEAGE_FAST_EXECUTION": "maybe"})
    calls = count_completions(monkeypatch)
    answers = {}
    for fast in (True, False):
        async with running_api(dataclasses.replace(settings, fast_execution=fast)) as api:
            calls[0] = 0
            answers[fast] = await api.ok(NODES, {"p": lab.art("raw")}, key=lab.key), calls[0]
    assert answers[True][0] == answers[False][0]
    assert answers[False][1] > 10 * answers[True][1]


# -- fallbacks, on a small schema -----------------------------------------------------


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Paint(Enum):  # not the schema's enum, though its values match
    RED = "red"


Odd = NewType("Odd", int)  # serializes negative numbers to None, which graphql-core refuses


class EvenOnly(BasePermission):
    message = "only even items tell their secret"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return bool(source.n % 2 == 0)


@strawberry.type
class Item:
    n: int
    s: str | None = None
    color: Color = Color.RED
    odd: Odd | None = None
    secret: int = strawberry.field(default=7, permission_classes=[EvenOnly])

    @strawberry.field
    def twice(self) -> int:  # a resolver: the plain fields next to it still go direct
        return self.n * 2

    @strawberry.field
    async def later(self) -> str:
        if self.s == "boom":
            raise ValueError("boom")
        return f"later {self.s}"

    # async resolvers with arguments: called for a whole list at once on the fast path
    @strawberry.field
    async def scaled(self, by: int = 2) -> int:
        return self.n * by

    @strawberry.field
    async def kids(self, first: int = 2) -> list[Item]:
        if first < 0:
            raise ValueError("first must not be negative")
        return [Item(n=self.n * 10 + i, s=self.s) for i in range(first)]

    @strawberry.field
    async def maybe_kid(self) -> Item | None:
        return Item(n=self.n + 100) if self.n % 2 else None

    @strawberry.field
    async def kid(self) -> Item:  # None for n == 2, which graphql-core refuses
        return None if self.n == 2 else Item(n=self.n + 200)  # type: ignore[return-value]

    @strawberry.field
    async def painted(self, color: Color) -> str:  # an enum argument: the normal path
        return f"{self.n} {color.value}"


class SpecialItem(Item):
    """A subclass strawberry accepts as an Item, which the fast path does not know."""


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Person(Named):
    pass


@strawberry.type
class Box:
    n: int
    label: str = "box"


Thing = Annotated[Item | Box, strawberry.union("Thing")]


@strawberry.type
class Shelf:  # plain fields holding objects and lists: completed nested, in one go
    items: list[Item]
    top: Item | None


@strawberry.type
class Crate:  # not among the fast types: graphql-core completes it, item by item
    n: int


@strawberry.type
class Query:
    items: list[Item]
    maybe_items: list[Item | None]
    things: list[Thing]
    people: list[Person]
    first: Item | None
    shelves: list[Shelf]
    crates: list[Crate]


def root(items: list[Any]) -> SimpleNamespace:
    """What every field of Query answers: the list, or its first item, or shelves of them."""
    first = items[0] if items else None
    shelves = [Shelf(items=items, top=first), Shelf(items=[], top=None)]
    return SimpleNamespace(
        items=items, maybe_items=items, things=items, people=items, first=first, shelves=shelves,
        crates=items,
    )  # fmt: skip


def build(**kwargs: Any) -> strawberry.Schema:
    odd = strawberry.scalar(name="Odd", serialize=lambda v: None if v < 0 else v)
    return strawberry.Schema(Query, config=StrawberryConfig(scalar_map={Odd: odd}), **kwargs)


FAST_TYPES = (Item, Box, Person, Shelf)
FAST = build(execution_context_class=fast_execution_context(*FAST_TYPES))
speed_up_unions(FAST)
NORMAL = build()


def it(**fields: Any) -> Item:  # unchecked: some cases hold what the schema refuses
    return Item(**fields)


CASES: dict[str, tuple[str, list[Any]]] = {
    "plain": ("{ items { n s color __typename } }", [it(n=1), it(n=2, s="x", color=Color.BLUE)]),
    "aliases, twice": ("{ items { a: n b: n n s } first { n color } }", [it(n=1), it(n=2)]),
    "directives": ("{ items { n @include(if: false) s @skip(if: false) } }", [it(n=1, s="x")]),
    "empty": ("{ items { n } first { n } }", []),
    "null in non-null": ("{ items { n } }", [it(n=1), it(n=None)]),
    "... in nullable item": ("{ maybeItems { n s } first { n } }", [it(n=1), it(n=None)]),
    "null item": ("{ maybeItems { n } }", [it(n=1), None]),
    "str for Int": ("{ items { n } }", [it(n="x")]),
    "Int overflow": ("{ items { n } }", [it(n=2**40)]),
    "enum value, name": ("{ items { color } }", [it(n=1, color="blue"), it(n=2, color="BLUE")]),
    "union subclass": (
        "{ things { __typename ... on Item { n } ... on Box { n label } } }",
        [it(n=1), SpecialItem(n=2), Box(n=3)],
    ),
    "union stranger": ("{ things { ... on Item { n } } }", [it(n=1), "not a thing"]),
    "is_type_of fails": ("{ people { name __typename } }", [Person(name="a"), Box(n=1)]),
    "single subclass": ("{ first { n s } items { n } }", [SpecialItem(n=1, s="y"), it(n=2)]),
    "plain and resolvers": ("{ items { s later n twice color } }", [it(n=1, s="x"), it(n=2)]),
    "resolver fails": ("{ maybeItems { n later s } }", [it(n=1, s="boom"), it(n=2, s="y")]),
    "plain null beside resolver": ("{ maybeItems { later n } }", [it(n=None, s="x")]),
    "nested": ("{ shelves { items { n s } top { n color } } }", [it(n=1), it(n=2, s="x")]),
    "nested null in non-null": ("{ shelves { top { n } items { n } } }", [it(n=1), it(n=None)]),
    "nested subclass": ("{ shelves { top { n } } }", [SpecialItem(n=1)]),
    "nested stranger": ("{ shelves { items { n } } }", [it(n=1), Box(n=2)]),
    # these four once disagreed (the fast path answered where graphql-core does not)
    "typename of null item": ("{ maybeItems { __typename } }", [it(n=1), None]),
    "typename of null non-null item": ("{ items { __typename } }", [it(n=1), None]),
    "member of another enum": ("{ items { n color } }", [it(n=1, color=Paint.RED)]),
    "scalar serializes to None": ("{ items { n odd } }", [it(n=1, odd=Odd(-1))]),
    "permission classes": ("{ maybeItems { n secret } }", [it(n=1), it(n=2), it(n=3)]),
    "a type not opted in": ("{ crates { n } items { n } }", [it(n=1), it(n=2)]),
    "batched with arguments": (
        "{ items { n scaled(by: 3) kids(first: 2) { n scaled kids(first: 1) { n } } } }",
        [it(n=1), it(n=2)],
    ),
    "batched with a variable": (
        "query($b: Int = 5) { items { scaled(by: $b) n } first { scaled(by: $b) } }",
        [it(n=1), it(n=2)],
    ),
    "batched nullable": ("{ items { n maybeKid { n maybeKid { n } } } }", [it(n=1), it(n=2)]),
    "batched null in non-null": ("{ maybeItems { n kid { n } } }", [it(n=1), it(n=2), it(n=3)]),
    "batched raises": ("{ maybeItems { n kids(first: -1) { n } } }", [it(n=1), it(n=2)]),
    "batched, then a resolver fails": (
        "{ shelves { items { n kids(first: 1) { n later } } } }",
        [it(n=1, s="ok"), it(n=2, s="boom")],
    ),
    "batched beside graphql-core's fields": (
        "{ items { painted(color: BLUE) scaled later n } }",
        [it(n=1, s="x"), it(n=2, s="y")],
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_fast_path_answers_as_the_normal_path(case: str) -> None:
    query, items = CASES[case]
    expected = outcome(await NORMAL.execute(query, root_value=root(items)))
    assert outcome(await FAST.execute(query, root_value=root(items))) == expected


@pytest.mark.parametrize(
    ("query", "item"),
    [
        ("{ items { n s color } }", it(n=1, s="x")),
        ("{ things { ... on Item { n } } }", it(n=1)),
        ("{ shelves { items { n } top { s } } }", it(n=1, s="x")),
        # a resolver field with arguments: one batch for the whole list
        ("{ items { n scaled(by: 3) kids(first: 1) { n } } }", it(n=1, s="x")),
    ],
)
async def test_a_long_flat_list_is_completed_in_one_go(
    query: str, item: Item, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_completions(monkeypatch)
    await FAST.execute(query, root_value=root([item]))
    one, calls[0] = calls[0], 0
    fast = outcome(await FAST.execute(query, root_value=root([item] * 1000)))
    assert calls[0] == one  # nothing per item
    calls[0] = 0
    assert outcome(await NORMAL.execute(query, root_value=root([item] * 1000))) == fast
    assert calls[0] > 1000


async def test_a_type_that_does_not_opt_in_is_left_to_graphql_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = count_completions(monkeypatch)
    await FAST.execute("{ crates { n } }", root_value=root([it(n=1)] * 100))
    assert calls[0] > 100  # one per crate and field, as on the normal path


def seeing(seen: list[str]) -> type[SchemaExtension]:
    """An extension whose resolve hook writes down every field it sees resolved."""

    class Seeing(SchemaExtension):
        def resolve(
            self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(f"{info.parent_type.name}.{info.field_name}")
            return _next(root, info, *args, **kwargs)

    return Seeing


async def test_an_extension_with_a_resolve_hook_sees_every_field() -> None:
    query = "{ items { n s color } things { ... on Box { label } } shelves { top { n } } }"
    items = [it(n=1), it(n=2, s="x"), Box(n=3)]
    seen: dict[str, list[str]] = {"fast": [], "normal": []}
    fast = build(
        execution_context_class=fast_execution_context(*FAST_TYPES),
        extensions=[seeing(seen["fast"])],
    )
    speed_up_unions(fast)
    normal = build(extensions=[seeing(seen["normal"])])
    for items_of_query in (items[:2], items):  # without an error, then with one
        expected = outcome(await normal.execute(query, root_value=root(items_of_query)))
        assert outcome(await fast.execute(query, root_value=root(items_of_query))) == expected
    assert seen["fast"] == seen["normal"]
    assert seen["fast"].count("Item.n") > 4  # every item's field, not one per list


@pytest.mark.parametrize(
    ("method", "changed", "expected"),
    [
        (
            "complete_iterable_value",
            lambda self, item_type, field_details_list, info, path, items: None,
            "complete_iterable_value takes (self, item_type, field_details_list, info, path, "
            "items), expected (self, item_type, field_details_list, info, path, items, "
            "position_context)",
        ),
        ("collect_subfields", None, "collect_subfields is gone"),
    ],
)
def test_the_import_check_refuses_changed_graphql_core_methods(
    method: str, changed: Any, expected: str
) -> None:
    check_libraries()  # the versions installed pass
    upgraded = type("Upgraded", (StrawberryGraphQLCoreExecutionContext,), {method: changed})
    with pytest.raises(IncompatibleLibraries) as refused:
        check_libraries(upgraded)
    message = str(refused.value)
    assert expected in message
    assert f"graphql-core {version('graphql-core')}" in message
    assert f"strawberry-graphql {version('strawberry-graphql')}" in message
    assert "LINEAGE_FAST_EXECUTION=0" in message
