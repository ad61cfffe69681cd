"""resolvers.execution's FastExecutionContext falls back whenever completing fast would
change the answer.

On a small schema built here: nulls in non-null fields, enums, unexpected classes,
unserializable values, ``__typename``, types that do not opt in, permission classes, an
extension with a resolve hook. Each test runs the same document through the fast context
and through strawberry's default one and compares ``data`` and the formatted ``errors``.
The import check (execution_guard.py) is shown to refuse a graphql-core whose methods
changed. The same comparison on the project's schema is in test_execution.py.
"""

from __future__ import annotations

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
from tests.resolvers.differential import count_completions, outcome

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
