"""schema.graphql is exported from the code; a stale checked-in copy fails here."""

from __future__ import annotations

from resolvers.export import DEFAULT_PATH, schema_text


def test_checked_in_schema_matches_the_code() -> None:
    checked_in = DEFAULT_PATH.read_text() if DEFAULT_PATH.exists() else ""
    assert checked_in == schema_text(), "schema.graphql is stale: run `python -m resolvers.export`"
