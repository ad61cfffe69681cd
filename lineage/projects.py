"""Projects: a name space of runs, sweeps and artifacts under an entity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.nodes import Node
from lineage.paging import PagedList

if TYPE_CHECKING:
    from lineage.artifacts import Artifact
    from lineage.runs import Run


class Project(Node):
    @property
    def name(self) -> str:
        return str(self._data["name"])

    @property
    def entity(self) -> str:
        return str(self._data["entity"]["name"])

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.name}"

    @property
    def visibility(self) -> str:
        return str(self._data["visibility"])

    def runs(self, order: str | None = None) -> PagedList[Run]:
        return self._api.runs(self.path, order=order)

    def artifacts(self, type: str | None = None) -> PagedList[Artifact]:
        return self._api.artifacts(self.path, type=type)
