"""Runs (and sweeps): read their inputs and outputs, and write to a run you own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.errors import BadInput, NotFound
from lineage.graph import LineageGraph, fetch_lineage
from lineage.nodes import Node, parse_time
from lineage.paging import PagedList, page_of
from lineage.paths import artifact_path

if TYPE_CHECKING:
    from lineage.api import Api
    from lineage.artifacts import Artifact


class RemoteDict(MutableMapping[str, Any]):
    """A run's config or summary: reads are local, each write is sent to the service at
    once (``update`` sends all its keys in one request). Deleting sends the key as null,
    which the service treats as removal."""

    def __init__(self, run: Run, field: str) -> None:
        self._run = run
        self._field = field

    def _values(self) -> dict[str, Any]:
        values: dict[str, Any] = self._run._field(self._field)
        return values

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._values()))

    def __len__(self) -> int:
        return len(self._values())

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self._values():
            raise KeyError(key)
        self.update({key: None})

    def update(self, *args: Any, **kwargs: Any) -> None:
        changes = dict(*args, **kwargs)
        if changes:
            self._run._update(**{self._field: changes})

    def __repr__(self) -> str:
        return repr(self._values())


class Run(Node):
    """A run: its fields, what it logged and used, and (for a run you may write to)
    logging and using artifacts. ``lineage.init`` returns one as a context manager that
    marks the run FINISHED on a normal exit and FAILED on an exception."""

    def __init__(self, api: Api, data: dict[str, Any]) -> None:
        super().__init__(api, data)
        self.config = RemoteDict(self, "config")
        self.summary = RemoteDict(self, "summary")

    @property
    def run_id(self) -> str:
        return str(self._data["runId"])

    @property
    def name(self) -> str | None:
        return self._field("runName")  # type: ignore[no-any-return]

    @property
    def state(self) -> str:
        return str(self._field("runState"))

    @property
    def updated_at(self) -> datetime:
        return parse_time(self._field("updatedAt"))

    @property
    def entity(self) -> str:
        return self.path.split("/")[0]

    @property
    def project(self) -> str:
        return self.path.split("/")[1]

    @property
    def sweep_path(self) -> str | None:
        sweep = self._field("sweep")
        return None if sweep is None else str(sweep["path"])

    # -- reading ------------------------------------------------------------------------

    def logged_artifacts(self, type: str | None = None) -> PagedList[Artifact]:
        """Versions this run logged (its outputs), oldest first."""
        return self._artifacts(queries.LOGGED_ARTIFACTS, type)

    def used_artifacts(self, type: str | None = None) -> PagedList[Artifact]:
        """Versions this run used (its inputs), in order of first use."""
        return self._artifacts(queries.USED_ARTIFACTS, type)

    def _artifacts(self, query: str, type: str | None) -> PagedList[Artifact]:
        from lineage.artifacts import Artifact

        def fetch(after: str | None, first: int) -> Any:
            variables = {"id": self.id, "type": type, "first": first, "after": after}
            node = self._api.graphql(query, variables)["node"]
            if node is None:
                raise NotFound(f"run {self.path} is no longer readable")
            return page_of(node["artifacts"], lambda d: Artifact.from_data(self._api, d))

        return PagedList(fetch)

    def lineage(self, direction: str = "both", depth: int = 1, limit: int = 1000) -> LineageGraph:
        return fetch_lineage(self._api, self, direction, depth, limit)

    # -- writing ------------------------------------------------------------------------

    def _update(self, **fields: Any) -> None:
        data = self._api.graphql(queries.UPDATE_RUN, {"input": {"run": self.path, **fields}})
        self._data.update(data["updateRun"])

    def log_artifact(self, artifact: Artifact, aliases: list[str] | None = None) -> Artifact:
        """Hash, log, upload what the service lacks, commit. Returns the artifact, now
        naming the committed version (or the equal one it was deduplicated to)."""
        from lineage.upload import log_artifact

        log_artifact(self._api, self.path, artifact, aliases or [])
        return artifact

    def use_artifact(self, artifact: str | Artifact) -> Artifact:
        """Record this run as a user of a version. A path without entity/project
        (``name:alias``) means this run's project."""
        from lineage.artifacts import Artifact

        if isinstance(artifact, Artifact):
            if artifact.version is None:
                raise BadInput(f"artifact {artifact.name!r} is not logged yet: log it, then use it")
            target = artifact.qualified_path
        else:
            target = artifact_path(artifact, self._api.settings.entity)
        data = self._api.graphql(queries.USE_ARTIFACT, {"run": self.path, "artifact": target})
        return Artifact.from_data(self._api, data["useArtifact"])

    def finish(self, state: str = "FINISHED") -> None:
        """Mark the run FINISHED (or FAILED, CRASHED); it stops being the current run."""
        from lineage import session

        self._update(state=state)
        session.forget(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish("FINISHED" if exc_type is None else "FAILED")


class Sweep(Node):
    @property
    def sweep_id(self) -> str:
        return str(self._data["sweepId"])

    @property
    def name(self) -> str | None:
        return self._field("name")  # type: ignore[no-any-return]

    @property
    def config(self) -> Mapping[str, Any]:
        return self._field("config")  # type: ignore[no-any-return]

    def _reload(self) -> None:
        data = self._api.graphql(queries.SWEEP_BY_PATH, {"path": self.path})["sweep"]
        if data is None:
            raise NotFound(f"sweep {self.path} is no longer readable")
        self._data.update(data)

    def runs(self, order: str | None = None) -> PagedList[Run]:
        from lineage.api import run_order

        def fetch(after: str | None, first: int) -> Any:
            variables = {
                "path": self.path,
                "first": first,
                "after": after,
                "order": run_order(order),
            }
            data = self._api.graphql(queries.SWEEP_RUNS, variables)["sweep"]
            if data is None:
                raise NotFound(f"sweep {self.path} is no longer readable")
            return page_of(data["runs"], lambda d: Run(self._api, d))

        return PagedList(fetch)

    def best_run(self, metric: str, goal: str = "maximize") -> Run | None:
        """The run whose summary value at ``metric`` (dotted keys reach into nested
        objects) is highest (``goal="maximize"``) or lowest; None when no run has one."""
        if goal.lower() not in ("maximize", "minimize"):
            raise BadInput(f"goal must be 'maximize' or 'minimize', not {goal!r}")
        variables = {"path": self.path, "metric": metric, "goal": goal.upper()}
        data = self._api.graphql(queries.BEST_RUN, variables)["sweep"]
        if data is None:
            raise NotFound(f"sweep {self.path} is no longer readable")
        best = data["bestRun"]
        return None if best is None else Run(self._api, best)
