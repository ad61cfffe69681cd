"""What Run and Artifact share: a view of the service's answer, loaded further on demand."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.errors import NotFound

if TYPE_CHECKING:
    from lineage.api import Api


class Node:
    """Fields come from the query that found the object; one left out of that query
    (a lineage graph does not select JSON documents) is loaded by id when first read."""

    def __init__(self, api: Api, data: dict[str, Any]) -> None:
        self._api = api
        self._data = data

    def _field(self, name: str) -> Any:
        if name not in self._data:
            self._reload()
        return self._data[name]

    def _reload(self) -> None:
        data = self._api.graphql(queries.NODE, {"id": self._data["id"]})["node"]
        if data is None:
            raise NotFound(f"{self._data.get('path', 'object')} is no longer readable")
        self._data.update(data)

    @property
    def id(self) -> str:
        """The service's opaque global id."""
        return str(self._data["id"])

    @property
    def path(self) -> str:
        return str(self._data["path"])

    @property
    def created_at(self) -> datetime:
        return parse_time(self._field("createdAt"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def node_from(api: Api, data: dict[str, Any]) -> Node:
    """A Run or an Artifact from a union member (``__typename`` tells which)."""
    from lineage.artifacts import Artifact
    from lineage.runs import Run

    if data["__typename"] == "Run":
        return Run(api, data)
    return Artifact.from_data(api, data)
