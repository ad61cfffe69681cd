"""Operations generated from schema.graphql (hypothesis-graphql), and how an answer is
judged. Shared by the bounded fuzz run in the test suite and the longer ``bench/fuzz.py``.

Valid operations come from the schema as a client would write them (random names,
strings with NUL and other odd characters, random ids and cursors); invalid ones break
the schema's rules on purpose. Neither kind may ever be answered with INTERNAL or with
a bare HTTP 500: every refusal is the client's, with a code.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

SCHEMA_TEXT = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()

CUSTOM_SCALARS = {
    "JSON": st.one_of(
        st.just(nodes.Object([])),
        st.text(max_size=20).map(nodes.String),
        st.integers(-(2**40), 2**40).map(nodes.Int),
    ),
    "Int64": st.integers(-(2**63), 2**63 - 1).map(nodes.Int),
    "DateTime": st.datetimes().map(lambda d: nodes.String(d.isoformat())),
}

# What an answer can be: "ok", or the first error's code ("BAD_USER_INPUT", ...), or
# "http-<status>" for an answer that is not a GraphQL response with a code.
BAD = ("INTERNAL", "UNAVAILABLE", "uncoded", "http-500")


def operations(count: int, *, valid: bool, random_seed: int) -> list[str]:
    """``count`` operations, the same ones for the same ``random_seed``."""
    found: list[str] = []
    strategy = from_schema(
        SCHEMA_TEXT, custom_scalars=CUSTOM_SCALARS, mode=Mode.POSITIVE if valid else Mode.NEGATIVE
    )

    @seed(random_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(query=strategy)
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found[:count]


def outcome(status: int, body: Any) -> str:
    if status >= 500:
        return f"http-{status}"
    if not isinstance(body, dict):
        return "uncoded"
    errors = body.get("errors")
    if not errors:
        return "ok" if status == 200 else f"http-{status}"
    code = (errors[0].get("extensions") or {}).get("code")
    return str(code) if code else "uncoded"


def summary(counts: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.most_common())
