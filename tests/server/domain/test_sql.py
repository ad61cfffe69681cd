"""Every statement of the domain, and every variant of those composed from fragments, is
one Postgres accepts (syntax, tables, columns, types), with exactly the parameters its
names say. What each variant answers is tested through the API (ordering, pagination,
prefixes, lineage hops; see the tests named beside each family)."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import server.domain.sql
from server.db.database import Database
from server.db.statements import Statement
from server.domain.sql import artifacts, graph, lineage, manifests, projects, runs, sweeps

BOOLS = (False, True)

# family -> the arguments of each of its variants (and where their answers are tested)
FAMILIES: dict[Callable[..., Statement], list[tuple[Any, ...]]] = {
    # tests/resolvers/test_pagination.py, tests/web/test_projects_query.py
    projects.page_by_entity: [(after,) for after in BOOLS],
    projects.readable_page: list(itertools.product(BOOLS, BOOLS)),
    projects.readable_count: [(search,) for search in BOOLS],
    # tests/resolvers/test_ordering.py, tests/resolvers/test_runs.py
    runs.readable_runs_by_ids: [(documents,) for documents in BOOLS],
    runs.run_page: list(
        itertools.product(
            tuple(runs.SCOPE_COLUMNS), (None, *runs.JSON_COLUMNS), runs.DIRECTIONS, BOOLS
        )
    ),
    runs.run_counts: [(scope,) for scope in runs.SCOPE_COLUMNS],
    runs.best_runs: [("MAXIMIZE",), ("MINIMIZE",)],
    sweeps.page_by_project: [(after,) for after in BOOLS],
    # tests/resolvers/artifacts/test_collections.py, test_aliases.py
    artifacts.readable_artifacts_by_ids: [(documents,) for documents in BOOLS],
    # tests/resolvers/artifacts/test_artifact_by_path.py (producer: the loggedBy it brings)
    artifacts.readable_artifact_by_path: list(
        itertools.product(("latest", "index", "alias"), BOOLS)
    ),
    # tests/server/http/test_key_in_first_statement.py: artifact(path) looking its key up
    artifacts.key_holders_artifact_by_path: list(
        itertools.product(("latest", "index", "alias"), BOOLS)
    ),
    artifacts.collection_page: list(itertools.product(BOOLS, BOOLS)),
    artifacts.version_page: [(after,) for after in BOOLS],
    # tests/resolvers/artifacts/test_manifest_entries.py
    manifests.entry_page: list(itertools.product(BOOLS, BOOLS)),
    manifests.entry_counts: [(bounded,) for bounded in BOOLS],
    # tests/resolvers/lineage
    lineage.hop_page: [
        (hop, by_type, documents)
        for hop, spec in lineage.HOPS.items()
        for by_type in (BOOLS if spec.typed else (False,))
        for documents in BOOLS
    ],
    # tests/resolvers/artifacts/test_first_pages.py: each part against the loaders' pages
    lineage.artifact_with_hops: [
        (kind, producer, documents, logged, key_holder)
        for kind in ("latest", "index", "alias")
        for producer in BOOLS
        for documents in BOOLS
        for logged in (None, *itertools.product(BOOLS, BOOLS))
        for key_holder in BOOLS
    ],
    lineage.hop_counts: [
        (hop, by_type)
        for hop, spec in lineage.HOPS.items()
        for by_type in (BOOLS if spec.typed else (False,))
    ],
    # tests/resolvers/lineage/test_node_columns.py: no field, each join, every field
    graph.node_rows: [
        (kind, read)
        for kind, names in graph.NODE_COLUMNS.items()
        for read in (frozenset(), frozenset({"name", "entity_name"}), frozenset(names))
    ],
    # tests/resolvers/lineage/test_lineage_ahead.py: against the lineage loader
    graph.artifact_with_lineage: [
        (kind, producer, read, read, key_holder, direction)
        for kind in ("latest", "index", "alias")
        for producer in BOOLS
        for read in (
            frozenset(),
            frozenset({"name", "entity_name"}),
            frozenset(graph.NODE_COLUMNS["Run"]) | frozenset(graph.NODE_COLUMNS["Artifact"]),
        )
        for key_holder in BOOLS
        for direction in ("DOWNSTREAM", "UPSTREAM")
    ],
}


def _constants() -> Iterator[tuple[str, Statement]]:
    for info in pkgutil.iter_modules(server.domain.sql.__path__):
        module = importlib.import_module(f"server.domain.sql.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, Statement):
                yield f"{info.name}.{name}", value


def _variants() -> Iterator[tuple[str, Statement]]:
    for family, arguments in FAMILIES.items():
        module = family.__module__.rsplit(".", 1)[1]
        for args in arguments:
            yield f"{module}.{family.__name__}{args!r}", family(*args)


STATEMENTS = [*_constants(), *_variants()]


@pytest.mark.parametrize(("name", "statement"), STATEMENTS, ids=[n for n, _ in STATEMENTS])
async def test_postgres_accepts_the_statement(
    db: Database, name: str, statement: Statement
) -> None:
    async with db.pool.acquire() as conn:
        prepared = await conn.prepare(statement.text)
        assert len(prepared.get_parameters()) == len(statement.names), name


def test_every_family_is_listed_here() -> None:
    """A composed family added to server/domain/sql without its variants listed above
    would go untested."""
    listed = {(f.__module__, f.__name__) for f in FAMILIES}
    composed = set()
    for info in pkgutil.iter_modules(server.domain.sql.__path__):
        module = importlib.import_module(f"server.domain.sql.{info.name}")
        for name, value in vars(module).items():
            if (
                callable(value)
                and hasattr(value, "cache_info")
                and value.__module__ == module.__name__
            ):
                composed.add((module.__name__, name))
    assert composed == listed


@pytest.mark.parametrize(
    "call",
    [
        lambda: runs.run_page("project", None, "DESC; DROP TABLE runs", False),
        lambda: runs.run_page("everything", None, "ASC", False),
        lambda: runs.run_page("project", "name", "ASC", False),
        lambda: lineage.hop_page("used_by", True, True),
        lambda: graph.node_rows("Sweep", frozenset()),
        # artifact_with_hops renames plain column items only
        lambda: lineage.prefixed("count(x) AS n", "u_"),
    ],
)
def test_a_variant_outside_the_known_choices_is_refused(call: Callable[[], Statement]) -> None:
    with pytest.raises((ValueError, KeyError)):
        call()
