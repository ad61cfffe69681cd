"""Relay pagination with keyset cursors (never OFFSET).

A cursor is the sort key of the last row seen, encoded opaquely; the next page is the
rows strictly after it in the page's order, which stays stable under inserts.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from server.errors import BadUserInput

DEFAULT_FIRST = 50
MAX_FIRST = 1000
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class PageArgs:
    first: int
    after: list[Any] | None


def page_args(first: int | None, after: str | None) -> PageArgs:
    if first is None:
        first = DEFAULT_FIRST
    if first < 0 or first > MAX_FIRST:
        raise BadUserInput(f"first must be between 0 and {MAX_FIRST}, got {first}")
    return PageArgs(first, decode_cursor(after) if after is not None else None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps([_jsonable(v) for v in key], separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Cursors we hand out are a few sort keys; anything longer is forged.
MAX_CURSOR_CHARS = 4096


def decode_cursor(cursor: str) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
        for value in values:
            # strings reach SQL parameters: no NUL, no unpaired surrogate
            if isinstance(value, str) and "\x00" in value:
                raise ValueError
            if isinstance(value, str):
                value.encode("utf-8")
        return [_restore(v) for v in values]
    except (binascii.Error, ValueError, UnicodeError, TypeError, RecursionError):
        raise BadUserInput(
            f"invalid cursor {cursor[:40]!r}: pass an endCursor from an earlier page"
        ) from None


def keyset_after(columns: Sequence[tuple[str, str]], first_param: int) -> str:
    """SQL condition "row comes after $first_param.." for (expr, 'ASC'|'DESC') columns."""
    directions = {d for _, d in columns}
    params = [f"${first_param + i}" for i in range(len(columns))]
    if len(directions) == 1:
        # a row comparison lets Postgres use a matching index
        op = ">" if directions == {"ASC"} else "<"
        lhs = ", ".join(expr for expr, _ in columns)
        return f"(({lhs}) {op} ({', '.join(params)}))"
    ors = []
    for i, (expr, direction) in enumerate(columns):
        equal = [f"{columns[j][0]} = {params[j]}" for j in range(i)]
        op = ">" if direction == "ASC" else "<"
        ors.append("(" + " AND ".join([*equal, f"{expr} {op} {params[i]}"]) + ")")
    return "(" + " OR ".join(ors) + ")"


@dataclass
class Page(Generic[T]):
    """One page of a connection; ``count`` runs only when totalCount is asked for."""

    items: list[T]
    keys: list[Sequence[Any]]
    has_next: bool
    count: Callable[[], Awaitable[int]] = field(repr=False)


def check_cursor_shape(after: list[Any] | None, types: Sequence[type | tuple[type, ...]]) -> None:
    if after is None:
        return
    if len(after) != len(types) or not all(
        isinstance(v, t) and not (isinstance(v, bool) and t is int)
        for v, t in zip(after, types, strict=True)
    ):
        raise BadUserInput("invalid cursor: it belongs to another list or ordering")
    # cursors come from the client: a forged number must not reach Postgres out of range
    if any(isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX for v in after):
        raise BadUserInput("invalid cursor: pass an endCursor from an earlier page")
