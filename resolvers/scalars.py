"""Custom scalars of the contract (JSON and DateTime come with strawberry)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Int64 = NewType("Int64", int)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Int64 must be a whole number, got {value!r}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"Int64 out of range: {value}")
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    Int64: strawberry.scalar(
        name="Int64",
        description="64-bit integer, serialized as a JSON number (sizes in bytes).",
        serialize=int,
        parse_value=_parse_int64,
    )
}
