"""Rows built from ``asyncpg.Record`` by column name, at positional speed.

A lineage answer builds thousands of rows; looking every field up by name made that
three times slower than slicing the record by position, but positions taken from a
column list break silently when a column moves. ``RowBuilder`` does both: it maps its
fields to positions by the record's own column names, once per shape of result (a
statement's columns are the same for every row), and then builds each row from one
``itemgetter`` call: a slice when the fields sit side by side in order, as the domain's
statements list them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, Generic, TypeVar

import asyncpg

T = TypeVar("T")


def _required_fields(cls: type[Any]) -> tuple[str, ...]:
    """A dataclass's fields without defaults: what its constructor must be given."""
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


class RowBuilder(Generic[T]):
    """Makes ``cls(*values)`` from records, the values taken by the names ``fields``
    (by default the dataclass's fields without defaults, in their order). A record may
    carry other columns too; one that lacks a field, or holds it twice, is an error."""

    __slots__ = ("_getters", "cls", "fields")

    def __init__(self, cls: type[T], fields: Sequence[str] | None = None) -> None:
        self.cls = cls
        self.fields = tuple(fields) if fields is not None else _required_fields(cls)
        self._getters: dict[tuple[str, ...], Callable[[asyncpg.Record], tuple[Any, ...]]] = {}

    def _getter(self, record: asyncpg.Record) -> Callable[[asyncpg.Record], tuple[Any, ...]]:
        columns = tuple(record.keys())
        getter = self._getters.get(columns)
        if getter is None:
            getter = self._getters[columns] = self._positions(columns)
        return getter

    def _positions(self, columns: tuple[str, ...]) -> Callable[[asyncpg.Record], tuple[Any, ...]]:
        positions = []
        for name in self.fields:
            found = [i for i, column in enumerate(columns) if column == name]
            if len(found) != 1:
                problem = "no column" if not found else f"{len(found)} columns"
                raise LookupError(
                    f"{self.cls.__name__}.{name}: {problem} of that name in {list(columns)}"
                )
            positions.append(found[0])
        start = positions[0]
        if positions == list(range(start, start + len(positions))):
            # the fields in order, side by side (as the statements list them): one slice
            return itemgetter(slice(start, start + len(positions)))
        return itemgetter(*positions)

    def one(self, record: asyncpg.Record) -> T:
        return self.cls(*self._getter(record)(record))

    def all(self, records: Sequence[asyncpg.Record]) -> list[T]:
        if not records:
            return []
        get, make = self._getter(records[0]), self.cls
        return [make(*get(r)) for r in records]
