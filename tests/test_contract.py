"""The project's schema serves the whole public contract (tests/contract.graphql, a
checked-in copy of ../shared/contract.graphql): nothing removed, renamed or retyped."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = Path(__file__).resolve().parent / "contract.graphql"
SHARED = ROOT.parent / "shared" / "contract.graphql"


def test_schema_graphql_has_no_breaking_change_against_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert find_breaking_changes(contract, schema) == []


def test_the_served_schema_has_no_breaking_change_against_the_contract() -> None:
    """The schema the app executes, in case schema.graphql were stale."""
    from resolvers.schema import lineage_schema

    contract = build_schema(CONTRACT.read_text())
    assert find_breaking_changes(contract, lineage_schema()._schema) == []


def test_the_checked_in_copy_matches_the_shared_contract() -> None:
    if not SHARED.exists():
        pytest.skip("no ../shared/contract.graphql beside this checkout")
    assert CONTRACT.read_text() == SHARED.read_text(), "copy ../shared/contract.graphql to tests/"
