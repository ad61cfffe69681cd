"""Per-request DataLoaders: every lookup, list page and count a resolver needs is batched
over all the parents that ask for it in the same step, into one query.

They are built fresh for each request (a module-level loader would cache across users and
forever) and apply the viewer's read access, so a row the viewer may not read comes back
as None, exactly like a row that does not exist, and lists and counts leave it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

from server.db.database import Database
from server.domain import (
    accounts,
    aliases,
    artifacts,
    graph,
    lineage,
    manifests,
    node_rows,
    projects,
    runs,
    sweeps,
)
from server.domain.access import Viewer
from server.domain.pagination import PageKey, Slice

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loader(DataLoader[K, V]):
    """strawberry's DataLoader, except that ``load_many`` of keys whose values are all in
    already (primed by an earlier statement, or loaded before) is a finished future:
    awaiting it does not wait. Its own load_many gathers the keys' futures, and a gather
    only finishes a loop turn later, even when every future is done."""

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        futures = [self.load(key) for key in keys]
        values: list[V] = []
        for future in futures:
            if (
                not isinstance(future, asyncio.Future)
                or not future.done()
                or future.cancelled()
                or future.exception() is not None
            ):
                return asyncio.gather(*futures)
            values.append(future.result())
        found: asyncio.Future[list[V]] = self.loop.create_future()
        found.set_result(values)
        return found


def by_key_loader(
    fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]],
) -> DataLoader[K, V | None]:
    async def load(keys: list[K]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(k) for k in keys]

    return Loader(load_fn=load)


def count_loader(fetch: Callable[[Sequence[K]], Awaitable[dict[K, int]]]) -> DataLoader[K, int]:
    """Counts by key; a key with nothing to count is 0."""

    async def load(keys: list[K]) -> list[int]:
        found = await fetch(keys)
        return [found.get(k, 0) for k in keys]

    return Loader(load_fn=load)


def page_loader(
    fetch: Callable[[Sequence[PageKey]], Awaitable[list[Slice[V]]]],
) -> DataLoader[PageKey, Slice[V]]:
    return Loader(load_fn=fetch)


@dataclass(frozen=True)
class LineageKey:
    request: graph.LineageRequest
    # the row fields the query reads of its Run and Artifact nodes (node_rows.node_rows)
    run_fields: frozenset[str]
    artifact_fields: frozenset[str]


@dataclass(frozen=True)
class LineageRows:
    """A lineage graph and the rows of its nodes the viewer may read."""

    graph: graph.Graph
    runs: dict[int, runs.RunRow]
    artifacts: dict[int, artifacts.ArtifactRow]


class Loaders:
    def __init__(self, db: Database, viewer: Viewer | None) -> None:
        self.db = db
        self.viewer = viewer

    def clear(self) -> None:
        """Forget everything: called after a mutation so later fields see its writes.
        Every loader is a cached property of this object, so dropping each DataLoader
        found on it drops them all, those added later included."""
        for name, value in list(vars(self).items()):
            if isinstance(value, DataLoader):
                del self.__dict__[name]

    # -- rows by id --------------------------------------------------------------------

    @cached_property
    def entity_by_id(self) -> DataLoader[int, accounts.EntityRow | None]:
        return by_key_loader(lambda ids: accounts.entities_by_ids(self.db, ids))

    @cached_property
    def user_by_id(self) -> DataLoader[int, accounts.UserRow | None]:
        return by_key_loader(lambda ids: accounts.users_by_ids(self.db, ids))

    @cached_property
    def project_by_id(self) -> DataLoader[int, projects.ProjectRow | None]:
        return by_key_loader(
            lambda ids: projects.readable_projects_by_ids(self.db, self.viewer, ids)
        )

    @cached_property
    def run_by_id(self) -> DataLoader[int, runs.RunRow | None]:
        return by_key_loader(lambda ids: runs.runs_by_ids(self.db, self.viewer, ids))

    @cached_property
    def sweep_by_id(self) -> DataLoader[int, sweeps.SweepRow | None]:
        return by_key_loader(lambda ids: sweeps.sweeps_by_ids(self.db, self.viewer, ids))

    @cached_property
    def artifact_by_id(self) -> DataLoader[int, artifacts.ArtifactRow | None]:
        return by_key_loader(lambda ids: artifacts.artifacts_by_ids(self.db, self.viewer, ids))

    @cached_property
    def aliases_by_id(self) -> DataLoader[int, list[str] | None]:
        """Aliases of artifact versions, by version id (rows the viewer already read)."""
        return by_key_loader(lambda ids: aliases.aliases_by_versions(self.db, ids))

    @cached_property
    def collection_by_id(self) -> DataLoader[int, artifacts.CollectionRow | None]:
        return by_key_loader(lambda ids: artifacts.collections_by_ids(self.db, self.viewer, ids))

    # -- rows by name, within a parent the viewer already read -------------------------

    @cached_property
    def project_by_name(self) -> DataLoader[tuple[int, str], projects.ProjectRow | None]:
        """By (entity id, project name)."""
        return by_key_loader(lambda keys: projects.projects_by_names(self.db, self.viewer, keys))

    @cached_property
    def collection_by_name(self) -> DataLoader[tuple[int, str], artifacts.CollectionRow | None]:
        """By (project id, collection name)."""
        return by_key_loader(lambda keys: artifacts.collections_by_names(self.db, keys))

    @cached_property
    def version_by_spec(self) -> DataLoader[tuple[int, str], artifacts.ArtifactRow | None]:
        """By (collection id, alias or "latest" or "vN")."""
        return by_key_loader(lambda keys: artifacts.versions_by_specs(self.db, keys))

    @cached_property
    def best_run(self) -> DataLoader[tuple[int, str, str], runs.RunRow | None]:
        """By (sweep id, metric, goal)."""
        return by_key_loader(lambda keys: runs.best_runs(self.db, keys))

    @cached_property
    def teams_by_user(self) -> DataLoader[int, list[accounts.EntityRow] | None]:
        return by_key_loader(lambda ids: accounts.teams_by_users(self.db, ids))

    # -- list pages and their counts ---------------------------------------------------

    @cached_property
    def project_pages(self) -> DataLoader[PageKey, Slice[projects.ProjectRow]]:
        """Projects of an entity (the key's parent)."""
        return page_loader(lambda keys: projects.project_pages(self.db, self.viewer, keys))

    @cached_property
    def project_count(self) -> DataLoader[int, int]:
        return count_loader(lambda ids: projects.project_counts(self.db, self.viewer, ids))

    @cached_property
    def run_pages(self) -> DataLoader[PageKey, Slice[runs.RunRow]]:
        """Runs of a project or a sweep (see runs.run_page_key)."""
        return page_loader(lambda keys: runs.run_pages(self.db, keys))

    @cached_property
    def project_run_count(self) -> DataLoader[int, int]:
        return count_loader(lambda ids: runs.run_counts(self.db, "project", ids))

    @cached_property
    def sweep_run_count(self) -> DataLoader[int, int]:
        return count_loader(lambda ids: runs.run_counts(self.db, "sweep", ids))

    @cached_property
    def sweep_pages(self) -> DataLoader[PageKey, Slice[sweeps.SweepRow]]:
        return page_loader(lambda keys: sweeps.sweep_pages(self.db, keys))

    @cached_property
    def sweep_count(self) -> DataLoader[int, int]:
        return count_loader(lambda ids: sweeps.sweep_counts(self.db, ids))

    @cached_property
    def collection_pages(self) -> DataLoader[PageKey, Slice[artifacts.CollectionRow]]:
        return page_loader(lambda keys: artifacts.collection_pages(self.db, keys))

    @cached_property
    def collection_count(self) -> DataLoader[tuple[int, str | None], int]:
        """By (project id, type or None)."""
        return count_loader(lambda keys: artifacts.collection_counts(self.db, keys))

    @cached_property
    def version_pages(self) -> DataLoader[PageKey, Slice[artifacts.ArtifactRow]]:
        return page_loader(lambda keys: artifacts.version_pages(self.db, keys))

    @cached_property
    def version_count(self) -> DataLoader[int, int]:
        return count_loader(lambda ids: artifacts.version_counts(self.db, ids))

    @cached_property
    def entry_pages(self) -> DataLoader[PageKey, Slice[manifests.Entry]]:
        return page_loader(lambda keys: manifests.entry_pages(self.db, keys))

    @cached_property
    def entry_count(self) -> DataLoader[tuple[int, str | None], int]:
        """By (version id, prefix or None)."""
        return count_loader(lambda keys: manifests.entry_counts(self.db, keys))

    # -- lineage: one-hop pages and counts (server/domain/lineage.py), whole graphs ----

    @cached_property
    def used_by_page(self) -> DataLoader[lineage.HopKey, lineage.HopPage]:
        return self._hop_pages(lineage.USED_BY)

    @cached_property
    def logged_artifacts_page(self) -> DataLoader[lineage.HopKey, lineage.HopPage]:
        return self._hop_pages(lineage.LOGGED_ARTIFACTS)

    @cached_property
    def used_artifacts_page(self) -> DataLoader[lineage.HopKey, lineage.HopPage]:
        return self._hop_pages(lineage.USED_ARTIFACTS)

    @cached_property
    def used_by_count(self) -> DataLoader[tuple[int, str | None], int]:
        return self._hop_counts(lineage.USED_BY)

    @cached_property
    def logged_artifacts_count(self) -> DataLoader[tuple[int, str | None], int]:
        return self._hop_counts(lineage.LOGGED_ARTIFACTS)

    @cached_property
    def used_artifacts_count(self) -> DataLoader[tuple[int, str | None], int]:
        return self._hop_counts(lineage.USED_ARTIFACTS)

    def _hop_pages(self, hop: lineage.Hop) -> DataLoader[lineage.HopKey, lineage.HopPage]:
        async def load(keys: list[lineage.HopKey]) -> list[lineage.HopPage]:
            return await lineage.hop_pages(self.db, self.viewer, hop, keys)

        return Loader(load_fn=load)

    def _hop_counts(self, hop: lineage.Hop) -> DataLoader[tuple[int, str | None], int]:
        async def load(keys: list[tuple[int, str | None]]) -> list[int]:
            return await lineage.hop_counts(self.db, self.viewer, hop, keys)

        return Loader(load_fn=load)

    @cached_property
    def lineage(self) -> DataLoader[LineageKey, LineageRows]:
        """Whole lineage graphs with their nodes' rows: the walks of every parent asking
        in one statement, and the nodes of all of them in one query per kind (and per set
        of fields read), with only the columns those fields need."""

        async def load(keys: list[LineageKey]) -> list[LineageRows]:
            graphs = await graph.lineages(self.db, self.viewer, [k.request for k in keys])
            wanted: dict[tuple[str, frozenset[str]], dict[int, None]] = {}
            for key, found in zip(keys, graphs, strict=True):
                runs = [pk for kind, pk in found.nodes if kind == graph.RUN]
                artifacts = [pk for kind, pk in found.nodes if kind != graph.RUN]
                for group, ids in (
                    ((graph.RUN, key.run_fields), runs),
                    ((graph.ARTIFACT, key.artifact_fields), artifacts),
                ):
                    if ids:
                        wanted.setdefault(group, {}).update(dict.fromkeys(ids))
            groups = list(wanted)
            # all of them at once, on as many connections
            loaded = await asyncio.gather(
                *(node_rows.node_rows(self.db, self.viewer, kind, list(wanted[(kind, fields)]), fields)
                  for kind, fields in groups)
            )  # fmt: skip
            rows = dict(zip(groups, loaded, strict=True))
            return [
                LineageRows(
                    g,
                    rows.get((graph.RUN, k.run_fields), {}),
                    rows.get((graph.ARTIFACT, k.artifact_fields), {}),
                )
                for k, g in zip(keys, graphs, strict=True)
            ]

        return Loader(load_fn=load)
