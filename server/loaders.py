"""Per-request DataLoaders: every lookup by key batches into one ``= ANY($1)`` query.

They are built fresh for each request (a module-level loader would cache across users and
forever) and apply the viewer's read access, so a row the viewer may not read comes back
as None, exactly like a row that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from server.db.database import Database
from server.domain import accounts, aliases, artifacts, lineage, projects, runs, sweeps
from server.domain.access import Viewer

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def by_key_loader(
    fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]],
) -> DataLoader[K, V | None]:
    async def load(keys: list[K]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, db: Database, viewer: Viewer | None) -> None:
        self.db = db
        self.viewer = viewer
        self._extra: dict[str, DataLoader[Any, Any]] = {}

    def extra(self, name: str, make: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """A loader registered by a later domain (artifacts, lineage) under ``name``."""
        if name not in self._extra:
            self._extra[name] = make()
        return self._extra[name]

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

    # one-hop lineage pages and counts (see server/domain/lineage.py)

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

        return DataLoader(load_fn=load)

    def _hop_counts(self, hop: lineage.Hop) -> DataLoader[tuple[int, str | None], int]:
        async def load(keys: list[tuple[int, str | None]]) -> list[int]:
            return await lineage.hop_counts(self.db, self.viewer, hop, keys)

        return DataLoader(load_fn=load)

    def clear(self) -> None:
        """Forget everything: called after a mutation so later fields see its writes."""
        for name in list(self.__dict__):
            if name.endswith(("_by_id", "_page", "_count")):
                del self.__dict__[name]
        self._extra.clear()
