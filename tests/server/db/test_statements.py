"""Named parameters: compiled once into asyncpg's $n form, checked at every call."""

from __future__ import annotations

import pytest

from server.db.database import Database
from server.db.statements import Statement, compile_named


def test_names_become_positions_in_order_of_first_use() -> None:
    text, names = compile_named("SELECT :b, :a, :b")
    assert text == "SELECT $1, $2, $1"
    assert names == ("b", "a")


def test_casts_survive() -> None:
    text, names = compile_named(
        "SELECT :ids::bigint[], '{}'::jsonb, x::text, (:doc::jsonb ->> 'k')::int"
    )
    assert text == "SELECT $1::bigint[], '{}'::jsonb, x::text, ($2::jsonb ->> 'k')::int"
    assert names == ("ids", "doc")


@pytest.mark.parametrize(
    "source",
    [
        "SELECT ':not_a_parameter'",
        "SELECT 'it''s :quoted'",
        'SELECT 1 AS "weird:name"',
        "SELECT 1 -- :commented out",
        "SELECT 1 /* :commented\n out */",
    ],
)
def test_literals_identifiers_and_comments_are_left_alone(source: str) -> None:
    assert compile_named(source) == (source, ())


@pytest.mark.parametrize("source", ["SELECT $1", "SELECT $$body$$"])
def test_positional_parameters_and_dollar_quotes_are_refused(source: str) -> None:
    with pytest.raises(ValueError, match="use :name parameters"):
        Statement(source)


def test_a_call_passes_exactly_the_names_the_statement_uses() -> None:
    statement = Statement("SELECT :a + :b")
    assert statement.args({"b": 2, "a": 1}) == [1, 2]
    with pytest.raises(TypeError, match=r"missing \['b'\], unknown \[\]"):
        statement.args({"a": 1})
    with pytest.raises(TypeError, match=r"missing \[\], unknown \['c'\]"):
        statement.args({"a": 1, "b": 2, "c": 3})


async def test_postgres_runs_a_compiled_statement(db: Database) -> None:
    statement = Statement(
        "SELECT :n::int + :n::int AS twice, :doc::jsonb ->> 'k' AS k, ':n' AS literal"
    )
    row = await db.fetchrow(statement, n=21, doc={"k": "v"})
    assert row is not None
    assert dict(row) == {"twice": 42, "k": "v", "literal": ":n"}


async def test_a_wrong_name_never_reaches_postgres(db: Database) -> None:
    before = db.queries
    with pytest.raises(TypeError):
        await db.fetchval(Statement("SELECT :n::int"), m=1)
    assert db.queries == before
