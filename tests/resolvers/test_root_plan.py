"""resolvers.root_plan runs a query of one root field as graphql-core's execute does.

Each case runs a prepared document through the direct schema's ``execute_prepared``
(which takes the root plan when the document allows it) and through strawberry's own
``execute`` on a plain schema, and compares data (keys in order) and formatted errors,
on a first and a later (cached) execution. Which cases take the plan is checked too: a
query of one root field does, anything else (several root fields, introspection, a
fragment or directives, a list of interfaces...) goes through ``execute`` unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import execute
from strawberry.schema.config import StrawberryConfig

from resolvers import schema as schema_module
from resolvers.documents import PreparedDocuments
from resolvers.execution import fast_execution_context, speed_up_unions
from resolvers.schema import LineageSchema
from server.http.documents import DocumentCache, prepare_document
from tests.resolvers.differential import outcome
from tests.resolvers.test_execution_fallbacks import FAST_TYPES, Item, Named, Odd, Person


@strawberry.type
class RootQuery:
    plain: int = 1

    @strawberry.field
    async def item(self, n: int, s: str | None = None) -> Item | None:
        if n < 0:
            raise ValueError("n must not be negative")
        return None if n == 0 else Item(n=n, s=s)

    @strawberry.field
    async def sure(self, n: int) -> Item:  # None for n == 0, which graphql-core refuses
        if n < 0:
            raise ValueError("n must not be negative")
        return None if n == 0 else Item(n=n)  # type: ignore[return-value]

    @strawberry.field
    async def items_of(self, n: int) -> list[Item]:
        return [Item(n=i) for i in range(n)]

    @strawberry.field
    async def stranger(self) -> Item | None:  # not an Item: graphql-core refuses it
        return Person(name="x")  # type: ignore[return-value]

    @strawberry.field
    async def named(self) -> Named:
        return Person(name="ada")

    @strawberry.field
    def now(self, n: int) -> Item:  # not async: execute runs it
        return Item(n=n)


def _config() -> StrawberryConfig:
    odd = strawberry.scalar(name="Odd", serialize=lambda v: None if v < 0 else v)
    return StrawberryConfig(scalar_map={Odd: odd})


DIRECT = LineageSchema(
    query=RootQuery,
    types=[Person],
    config=_config(),
    extensions=[PreparedDocuments],
    execution_context_class=fast_execution_context(*FAST_TYPES),
)
speed_up_unions(DIRECT)
DIRECT.direct = True
PLAIN = strawberry.Schema(RootQuery, types=[Person], config=_config())


class Context:
    def __init__(self, document: Any) -> None:
        self.document = document
        self.executions: list[Any] = []


# (document, variables, operation name, whether the root plan runs it)
CASES: dict[str, tuple[str, dict[str, Any], str | None, bool]] = {
    "plain": ("query($n: Int!) { item(n: $n) { n s color __typename } }", {"n": 1}, None, True),
    "aliases and __typename": (
        '{ i: item(n: 3, s: "x") { t: __typename a: n b: n s later twice } }', {}, None, True,
    ),
    "the root field raises": ("{ item(n: -1) { n } }", {}, None, True),
    "the root field is null": ("{ item(n: 0) { n } }", {}, None, True),
    "a non-null root field raises": ("{ sure(n: -1) { n } }", {}, None, True),
    "a non-null root field is null": ("{ sure(n: 0) { n } }", {}, None, True),
    "a null below propagates to the field": ("{ item(n: 2) { n kid { n } } }", {}, None, True),
    "... and to the data": ("{ sure(n: 2) { n kid { n } } }", {}, None, True),
    "a resolver below raises": ('{ item(n: 1, s: "boom") { n later } }', {}, None, True),
    "batched fields below": (
        "query($f: Int!) { item(n: 1) { kids(first: $f) { n scaled(by: 3) } } }",
        {"f": 2}, None, True,
    ),
    "fragments below": (
        "{ item(n: 1) { ...I ... on Item { s } } } fragment I on Item { n color }", {}, None, True,
    ),
    "not the type it says": ("{ stranger { n } }", {}, None, True),
    "a list": ("{ itemsOf(n: 3) { n } }", {}, None, True),
    "a variable missing": ("query($n: Int!) { item(n: $n) { n } }", {}, None, True),
    "a variable of the wrong type": ("query($n: Int!) { item(n: $n) { n } }", {"n": "x"}, None, True),
    "null for a non-null variable": ("query($n: Int!) { item(n: $n) { n } }", {"n": None}, None, True),
    "a variable's default": ("query($n: Int = 4) { item(n: $n) { n } }", {}, None, True),
    "null for a nullable argument": (
        "query($s: String) { item(n: 1, s: $s) { s } }", {"s": None}, None, True,
    ),
    "a nullable variable missing": ("query($s: String) { item(n: 1, s: $s) { s } }", {}, None, True),
    "a variable coerced": ("query($n: Int!) { item(n: $n) { n } }", {"n": 2.0}, None, True),
    "a named operation": (
        "query A { item(n: 1) { n } } query B { item(n: 2) { s } }", {}, "B", True,
    ),
    "two root fields": ("{ item(n: 1) { n } plain }", {}, None, False),
    "the same field twice": ("{ item(n: 1) { n } item(n: 1) { s } }", {}, None, False),
    "introspection": ("{ __typename }", {}, None, False),
    "a fragment at the root": ("{ ...R } fragment R on RootQuery { item(n: 1) { n } }", {}, None, False),
    "directives": ("{ item(n: 1) { n @include(if: true) s } }", {}, None, False),
    "an interface": ("{ named { name } }", {}, None, False),
    "a resolver that is not async": ("{ now(n: 1) { n } }", {}, None, False),
    "a field without a resolver": ("{ plain }", {}, None, False),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
async def test_one_root_field_answers_as_execute(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    query, variables, name, planned = CASES[case]
    expected = outcome(await PLAIN.execute(query, variables, operation_name=name))
    prepared = await prepare_document(query, DocumentCache())
    executed = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        executed[0] += 1
        return execute(*args, **kwargs)

    monkeypatch.setattr(schema_module, "execute", counting)
    for _ in range(2):  # the first execution makes the plan, the second reuses it
        result = await DIRECT.execute_prepared(prepared, variables, Context(prepared), name)
        assert outcome(result) == expected
    coerced = case.startswith(("a variable missing", "a variable of", "null for a non-null"))
    assert (prepared.plans.get(("root plan", name)) is not None) is planned
    # variables that do not coerce: execute reports them
    assert executed[0] == (0 if planned and not coerced else 2)
