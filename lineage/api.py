"""``lineage.Api``: read the graph (artifacts, runs, sweeps, projects) from the service."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.config import resolve_settings
from lineage.errors import NotFound, Unauthenticated
from lineage.paging import PagedList, page_of
from lineage.paths import artifact_path, split_path
from lineage.transport import Transport

if TYPE_CHECKING:
    from lineage.artifacts import Artifact
    from lineage.projects import Project
    from lineage.runs import Run, Sweep


class Api:
    """One connection to the service; every object it returns keeps using it.

    ``base_url`` and ``api_key`` default to LINEAGE_BASE_URL / LINEAGE_API_KEY, then to
    what ``lineage login`` stored; ``entity`` (LINEAGE_ENTITY) defaults to the viewer's."""

    def __init__(
        self, base_url: str | None = None, api_key: str | None = None, entity: str | None = None
    ) -> None:
        self.settings = resolve_settings(base_url, api_key, entity)
        self.transport = Transport(self.settings)
        self._default_entity = self.settings.entity
        self._lock = threading.Lock()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.transport.graphql(query, variables)

    @property
    def default_entity(self) -> str:
        """LINEAGE_ENTITY, else the signed-in user's own entity (asked once)."""
        with self._lock:
            if self._default_entity is None:
                viewer = self.graphql(queries.VIEWER)["viewer"]
                if viewer is None:
                    raise Unauthenticated(
                        "no API key: run `lineage login`, set LINEAGE_API_KEY, "
                        "or give the entity in the path"
                    )
                self._default_entity = str(viewer["defaultEntity"]["name"])
            return self._default_entity

    def viewer(self) -> str | None:
        """The signed-in user's name; None for anonymous access."""
        viewer = self.graphql(queries.VIEWER)["viewer"]
        return None if viewer is None else str(viewer["username"])

    def _entity(self, entity: str | None) -> str:
        return entity or self.default_entity

    # -- lookups ------------------------------------------------------------------------

    def artifact(self, path: str) -> Artifact:
        """``[entity/]project/name[:alias or vN]`` (``:latest`` when left out)."""
        from lineage.artifacts import Artifact

        full = artifact_path(path, self.settings.entity)
        data = self.graphql(queries.ARTIFACT_BY_PATH, {"path": full})["artifact"]
        if data is None:
            raise NotFound(f"artifact {full} not found (or not readable with this key)")
        return Artifact.from_data(self, data)

    def run(self, path: str) -> Run:
        """``[entity/]project/run_id``."""
        from lineage.runs import Run

        entity, project, run_id = split_path(path, "run", 3)
        full = f"{self._entity(entity)}/{project}/{run_id}"
        data = self.graphql(queries.RUN_BY_PATH, {"path": full})["run"]
        if data is None:
            raise NotFound(f"run {full} not found (or not readable with this key)")
        return Run(self, data)

    def sweep(self, path: str) -> Sweep:
        """``[entity/]project/sweep_id``."""
        from lineage.runs import Sweep

        entity, project, sweep_id = split_path(path, "sweep", 3)
        full = f"{self._entity(entity)}/{project}/{sweep_id}"
        data = self.graphql(queries.SWEEP_BY_PATH, {"path": full})["sweep"]
        if data is None:
            raise NotFound(f"sweep {full} not found (or not readable with this key)")
        return Sweep(self, data)

    def project(self, name: str, entity: str | None = None) -> Project:
        """``project`` or ``entity/project``."""
        from lineage.projects import Project

        entity, project = self._project_path(name, entity)
        data = self.graphql(queries.PROJECT, {"entity": entity, "name": project})["project"]
        if data is None:
            raise NotFound(f"project {entity}/{project} not found (or not readable with this key)")
        return Project(self, data)

    def _project_path(self, name: str, entity: str | None) -> tuple[str, str]:
        given, project = split_path(name, "project", 2)
        assert project is not None
        return self._entity(given or entity), project

    # -- lists ----------------------------------------------------------------------------

    def runs(
        self, project: str, order: str | None = None, entity: str | None = None
    ) -> PagedList[Run]:
        """Runs of a project, newest first unless ``order`` says otherwise: a field
        (``createdAt``, ``summary.val_acc``, ``config.lr``), ``-`` in front for descending."""
        from lineage.runs import Run

        entity, name = self._project_path(project, entity)
        variables = {"entity": entity, "name": name, "order": run_order(order)}

        def fetch(after: str | None, first: int) -> Any:
            data = self.graphql(queries.PROJECT_RUNS, {**variables, "first": first, "after": after})
            if data["project"] is None:
                raise NotFound(f"project {entity}/{name} not found (or not readable with this key)")
            return page_of(data["project"]["runs"], lambda d: Run(self, d))

        return PagedList(fetch)

    def artifacts(
        self, project: str, type: str | None = None, entity: str | None = None
    ) -> PagedList[Artifact]:
        """The latest version of each artifact of a project (of one type if given)."""
        from lineage.artifacts import Artifact

        entity, name = self._project_path(project, entity)
        variables = {"entity": entity, "name": name, "type": type}

        def fetch(after: str | None, first: int) -> Any:
            data = self.graphql(
                queries.PROJECT_ARTIFACTS, {**variables, "first": first, "after": after}
            )
            if data["project"] is None:
                raise NotFound(f"project {entity}/{name} not found (or not readable with this key)")
            page = page_of(data["project"]["artifactCollections"], lambda d: d["latest"])
            # a collection whose every version is deleted has no latest: left out
            page.items[:] = [Artifact.from_data(self, d) for d in page.items if d is not None]
            return page

        return PagedList(fetch)

    def artifact_versions(self, path: str, entity: str | None = None) -> PagedList[Artifact]:
        """Every version of one artifact (``[entity/]project/name``), newest first."""
        from lineage.artifacts import Artifact

        given, project, collection = split_path(path, "artifact", 3)
        variables = {
            "entity": self._entity(given or entity),
            "name": project,
            "collection": collection,
        }

        def fetch(after: str | None, first: int) -> Any:
            data = self.graphql(
                queries.COLLECTION_VERSIONS, {**variables, "first": first, "after": after}
            )
            found = (data["project"] or {}).get("artifactCollection")
            if found is None:
                raise NotFound(f"artifact {path} not found (or not readable with this key)")
            return page_of(found["versions"], lambda d: Artifact.from_data(self, d))

        return PagedList(fetch)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_order(order: str | None) -> dict[str, str] | None:
    if not order:
        return None
    direction = "DESC" if order.startswith("-") else "ASC"
    field = order.lstrip("+-")
    field = {"created_at": "createdAt"}.get(field, field)
    return {"field": field, "direction": direction}
