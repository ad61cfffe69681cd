"""Rows built from records by column name: the order of a statement's columns does not
matter, a missing or doubled column is an error, not a value in the wrong field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pytest

from server.db.database import Database
from server.db.rows import RowBuilder
from server.db.statements import Statement


@dataclass(slots=True)
class Point:
    x: int
    y: int
    label: str
    cached: str | None = field(default=None)  # has a default: not read from records


POINTS = RowBuilder(Point)


async def test_fields_are_taken_by_name_whatever_the_column_order(db: Database) -> None:
    one = await db.fetch(Statement("SELECT 1 AS x, 2 AS y, 'a' AS label"))
    other = await db.fetch(Statement("SELECT 'a' AS label, 2 AS y, 1 AS x, 9 AS extra"))
    assert POINTS.all(one) == POINTS.all(other) == [Point(1, 2, "a")]
    assert POINTS.one(other[0]) == Point(1, 2, "a")


async def test_many_rows_of_one_statement(db: Database) -> None:
    rows = await db.fetch(
        Statement("SELECT i AS y, -i AS x, 'p' || i AS label FROM generate_series(1, 3) i")
    )
    assert POINTS.all(rows) == [Point(-1, 1, "p1"), Point(-2, 2, "p2"), Point(-3, 3, "p3")]
    assert POINTS.all([]) == []


async def test_a_missing_column_is_an_error(db: Database) -> None:
    row = await db.fetchrow(Statement("SELECT 1 AS x, 'a' AS label"))
    assert row is not None
    with pytest.raises(LookupError, match=r"Point\.y: no column"):
        POINTS.one(row)


async def test_a_doubled_column_is_an_error(db: Database) -> None:
    row = await db.fetchrow(Statement("SELECT 1 AS x, 2 AS y, 3 AS y, 'a' AS label"))
    assert row is not None
    with pytest.raises(LookupError, match=r"Point\.y: 2 columns"):
        POINTS.one(row)


class Labelled(NamedTuple):
    label: str
    x: int


async def test_fields_named_explicitly_one_or_many(db: Database) -> None:
    row = await db.fetchrow(Statement("SELECT 7 AS x, 'a' AS label"))
    assert row is not None
    assert RowBuilder(Labelled, ["label", "x"]).one(row) == Labelled("a", 7)
    assert RowBuilder(str, ["label"]).one(row) == "a"
