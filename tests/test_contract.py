"""The project's schema serves the whole public contract (tests/contract.graphql, the
API promised to clients; it changes only by adding): nothing removed, renamed or
retyped. Both the checked-in schema.graphql and the schema the app executes are held
against it."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, find_breaking_changes

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = Path(__file__).resolve().parent / "contract.graphql"


def test_schema_graphql_has_no_breaking_change_against_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert find_breaking_changes(contract, schema) == []


def test_the_served_schema_has_no_breaking_change_against_the_contract() -> None:
    """The schema the app executes, in case schema.graphql were stale."""
    from resolvers.schema import lineage_schema

    contract = build_schema(CONTRACT.read_text())
    assert find_breaking_changes(contract, lineage_schema()._schema) == []
