"""Lineage nodes and edges come as RowViews (resolvers/fields.py): the fast executor
completes them from their rows, graphql-core's path from the views they stand for. Both
must answer alike (data, errors, key order), the fast path must make no views when every
selected field reads the row, and fall back to the views when one does not."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
import strawberry

import resolvers.fields
from resolvers.execution import fast_execution_context, speed_up_unions
from resolvers.fields import RowViews, row_field, row_item
from resolvers.schema import lineage_schema
from server.context import Context
from server.db.database import Database
from server.domain.accounts import authenticate
from server.settings import Settings
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab, small_pipeline

Outcome = tuple[Any, list[dict[str, Any]], str]


def outcome(result: Any) -> Outcome:
    """data, errors, and data as JSON text: keys must come in the order selected too."""
    return result.data, [error.formatted for error in result.errors or []], json.dumps(result.data)


def count_views(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """made[0] counts the views RowViews made for graphql-core (or a fallback)."""
    made = [0]
    original = resolvers.fields._view

    def counting(cls: type, row: Any) -> Any:
        made[0] += 1
        return original(cls, row)

    monkeypatch.setattr(resolvers.fields, "_view", counting)
    return made


# -- a small schema of views -----------------------------------------------------------


class Mood(Enum):
    CALM = "CALM"
    WILD = "WILD"


@dataclass
class PetRow:
    name: Any
    age: Any
    mood: Any = "CALM"


@strawberry.type
class Pet:
    row: strawberry.Private[PetRow]
    name: str = row_field("name")
    age: int | None = row_field("age")
    mood: Mood = row_field("mood")

    @strawberry.field
    def loud(self) -> str:  # no row getter: a list selecting it completes the views
        return str(self.row.name).upper()


@strawberry.type
class Tag:
    row: strawberry.Private[tuple[Any, Any]]
    label: str = row_item(0)
    weight: int = row_item(1)


Thing = Annotated[Pet | Tag, strawberry.union("Thing")]


@strawberry.type
class Shelf:
    pets: list[Pet]


@strawberry.type
class Query:
    pets: list[Pet]
    things: list[Thing]
    shelf: Shelf


def small(fast: bool) -> strawberry.Schema:
    context = fast_execution_context(Pet, Tag, Shelf) if fast else None
    schema = strawberry.Schema(Query, types=[Pet, Tag], execution_context_class=context)
    if fast:
        speed_up_unions(schema)
    return schema


FAST, NORMAL = small(True), small(False)


def pets(*rows: PetRow) -> RowViews:
    return RowViews([Pet] * len(rows), list(rows))


def things(*rows: PetRow | tuple[Any, Any]) -> RowViews:
    return RowViews([Pet if isinstance(r, PetRow) else Tag for r in rows], list(rows))


CASES: dict[str, tuple[str, dict[str, RowViews]]] = {
    "plain": ("{ pets { name age mood } }", {"pets": pets(PetRow("a", 1), PetRow("b", None))}),
    "aliases, typename between": (
        "{ pets { n: name __typename a: age name } }",
        {"pets": pets(PetRow("a", 1), PetRow("b", 2, "WILD"))},
    ),
    "union": (
        "{ things { ... on Tag { weight label } __typename ... on Pet { mood name } } }",
        {"things": things(PetRow("a", 1), ("x", 3), PetRow("b", 2), ("y", 4))},
    ),
    "union, runs of one class": (
        "{ things { __typename ... on Pet { name } ... on Tag { label weight } } }",
        {
            "things": things(
                PetRow("a", 1), PetRow("b", 2), ("x", 3), ("y", 4), ("z", 5), PetRow("c", 3)
            )
        },
    ),
    "a bad row in a later run": (
        "{ things { ... on Pet { name } ... on Tag { weight } } }",
        {"things": things(PetRow("a", 1), PetRow("b", 2), ("x", 3), ("y", "heavy"))},
    ),
    "fragments twice": (
        "fragment P on Pet { name } { things { ...P ... on Pet { age name } ...P } }",
        {"things": things(PetRow("a", 1), ("x", 3))},
    ),
    "empty": ("{ pets { name } things { __typename } }", {"pets": pets(), "things": things()}),
    "null in non-null": ("{ pets { name age } }", {"pets": pets(PetRow("a", 1), PetRow(None, 2))}),
    "str for Int": ("{ things { ... on Tag { weight } } }", {"things": things(("x", "heavy"))}),
    "Int overflow": ("{ pets { age } }", {"pets": pets(PetRow("a", 2**40))}),
    "enum member and name": (
        "{ pets { mood } }",
        {"pets": pets(PetRow("a", 1, Mood.WILD), PetRow("b", 1, "WILD"))},
    ),
    "not an enum name": ("{ pets { name mood } }", {"pets": pets(PetRow("a", 1, "SLEEPY"))}),
    "a field without a row getter": (
        "{ pets { name loud age } }",
        {"pets": pets(PetRow("a", 1), PetRow("b", 2))},
    ),
    "in a union, a field without a row getter": (
        "{ things { ... on Pet { loud } ... on Tag { label } } }",
        {"things": things(PetRow("a", 1), ("x", 3))},
    ),
    "a row that lacks the field": (
        "{ pets { __typename name } }",
        {"pets": RowViews([Pet, Pet], [PetRow("a", 1), SimpleNamespace(age=2)])},
    ),
    "only the type's name": ("{ things { __typename } }", {"things": things(("x", 1))}),
    "nested": ("{ shelf { pets { name age } } }", {"pets": pets(PetRow("a", 1))}),
    "directives": (
        "{ pets { name @include(if: false) age @skip(if: false) } }",
        {"pets": pets(PetRow("a", 1))},
    ),
}


def root(lists: dict[str, RowViews]) -> SimpleNamespace:
    listed = lists.get("pets", pets())
    shelf = Shelf(pets=listed)  # type: ignore[arg-type]
    return SimpleNamespace(pets=listed, things=lists.get("things", things()), shelf=shelf)


@pytest.mark.parametrize("case", CASES)
async def test_row_views_answer_as_the_views_do(case: str) -> None:
    query, lists = CASES[case]
    expected = outcome(await NORMAL.execute(query, root_value=root(lists)))
    assert outcome(await FAST.execute(query, root_value=root(lists))) == expected
    assert expected[0] is not None or expected[1], expected


async def test_the_fast_path_makes_views_only_for_fields_without_a_row_getter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = count_views(monkeypatch)
    lists = {"pets": pets(PetRow("a", 1), PetRow("b", 2)), "things": things(("x", 1))}
    for schema, query, views in [
        (FAST, "{ pets { name age } things { ... on Tag { label } } }", 0),
        (FAST, "{ pets { name loud } }", 2),
        (NORMAL, "{ pets { name age } things { ... on Tag { label } } }", 3),
    ]:
        made[0] = 0
        result = await schema.execute(query, root_value=root(lists))
        assert not result.errors, result.errors
        assert result.data is not None
        assert result.data["pets"][0]["name"] == "a"
        assert made[0] == views, query


# -- the project's schema on a real lineage graph --------------------------------------

PEERS = """query($p: String!, $d: LineageDirection!) { artifact(path: $p) {
  lineage(direction: $d, depth: 20, limit: 10000) { truncated
    nodes { __typename ... on Run { id runId } ... on Artifact { id name version } }
    edges { source target kind } } } }"""


@pytest.fixture
async def lab(api: Api, make_user: Any) -> Lab:
    return await small_pipeline(api, await make_user("x"))


@pytest.mark.parametrize("direction", ["DOWNSTREAM", "UPSTREAM", "BOTH"])
async def test_a_lineage_answer_is_built_from_rows_alone(
    direction: str,
    lab: Lab,
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The peer benchmark's lineage query: the same answer both ways, and on the fast path
    no node or edge view is made (graphql-core's path makes one per node and edge)."""
    made = count_views(monkeypatch)
    viewer = await authenticate(db, f"Bearer {lab.key}")
    answers = []
    for fast in (True, False):
        made[0] = 0
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        schema = lineage_schema(fast_execution=fast)
        variables = {"p": lab.art("model", "v0"), "d": direction}
        answers.append(outcome(await schema.execute(PEERS, variables, context_value=context)))
        graph = answers[-1][0]["artifact"]["lineage"]
        assert made[0] == (0 if fast else len(graph["nodes"]) + len(graph["edges"]))
    assert answers[0] == answers[1]
    assert not answers[0][1]
    graph = answers[0][0]["artifact"]["lineage"]
    expected = {"DOWNSTREAM": (3, 2), "UPSTREAM": (4, 3), "BOTH": (6, 6)}[direction]
    assert (len(graph["nodes"]), len(graph["edges"])) == expected
