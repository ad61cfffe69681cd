"""Parsing the paths users type: ``entity/project/run``, ``[entity/]project/name[:alias]``."""

from __future__ import annotations

from lineage.errors import BadInput


def split_path(path: str, what: str, parts: int) -> tuple[str | None, ...]:
    """``[entity/]project/.../last`` as a tuple of ``parts`` items, the entity None when
    the path leaves it out."""
    pieces = path.strip("/").split("/")
    if len(pieces) == parts - 1:
        pieces = [None, *pieces]  # type: ignore[list-item]
    if len(pieces) != parts or not all(pieces[1:]):
        shape = "/".join(["entity", "project", what][-parts:])
        raise BadInput(f"invalid {what} path {path!r}: expected '{shape}' (entity optional)")
    return tuple(pieces)


def artifact_path(path: str, entity: str | None) -> str:
    """A full path for Query.artifact: ``:latest`` when no alias is given, and the default
    entity (LINEAGE_ENTITY) when set and the path has none."""
    body, sep, spec = path.rpartition(":")
    if not sep or "/" in spec:
        body, spec = path, "latest"
    if body.count("/") == 1 and entity:
        body = f"{entity}/{body}"
    return f"{body}:{spec}"
