"""Validation of names, aliases, run/sweep ids, paths and free text (docs/semantics.md, "Names and paths")."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

from server.errors import BadUserInput

NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
ALIAS_RESERVED_RE = re.compile(r"(?i)latest|v\d+")
_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits


def check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise BadUserInput(
            f"invalid {what} {value!r}: use 1-128 characters of letters, digits, '_', '-' or '.'"
        )
    return value


def check_text(value: str | None, what: str) -> str | None:
    """Free text (a run or sweep name): anything Postgres can store, so no NUL."""
    if value is not None and "\x00" in value:
        raise BadUserInput(f"invalid {what}: remove the NUL character, Postgres cannot store it")
    return value


def check_storable_text(value: str, what: str) -> str:
    """Text Postgres can store: no NUL, and valid Unicode. JSON escapes can carry unpaired
    surrogates ("\\ud800") that no UTF-8 encoder accepts; left alone they fail deep in the
    database driver as an INTERNAL error instead of telling the client what to fix."""
    if "\x00" in value:
        raise BadUserInput(f"invalid {what}: it contains a NUL character")
    if not _encodable(value):
        raise BadUserInput(f"invalid {what}: not valid Unicode (unpaired surrogate)")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_alias(alias: str) -> str:
    if not 1 <= len(alias) <= 128 or "/" in alias or ":" in alias:
        raise BadUserInput(f"invalid alias {alias!r}: use 1-128 characters without '/' or ':'")
    if any(ch in alias for ch in "\x00\t\n\r"):
        raise BadUserInput(f"invalid alias {alias!r}: control characters are not allowed")
    if ALIAS_RESERVED_RE.fullmatch(alias):
        raise BadUserInput(
            f"alias {alias!r} is reserved: 'latest' and 'vN' are managed by the service"
        )
    return alias


def generate_id() -> str:
    """An 8-character lowercase alphanumeric run or sweep id."""
    return "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class ObjectPath:
    """A run or sweep path "entity/project/id"."""

    entity: str
    project: str
    key: str


def parse_object_path(path: str, what: str) -> ObjectPath:
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) != 3:
        raise BadUserInput(f"invalid {what} path {path!r}: expected 'entity/project/{what}Id'")
    entity, project, key = parts
    check_name(entity, "entity name")
    check_name(project, "project name")
    check_name(key, f"{what} id")
    return ObjectPath(entity, project, key)


@dataclass(frozen=True)
class ArtifactPath:
    """An artifact path "[entity/]project/name:spec" (entity None = viewer's default)."""

    entity: str | None
    project: str
    name: str
    spec: str


def parse_artifact_path(path: str) -> ArtifactPath:
    body, sep, spec = path.rpartition(":") if isinstance(path, str) else ("", "", "")
    if not sep or not spec:
        raise BadUserInput(
            f"invalid artifact path {path!r}: expected '[entity/]project/name:alias' or ':vN'"
        )
    parts = body.split("/")
    if len(parts) == 2:
        entity, (project, name) = None, parts
    elif len(parts) == 3:
        entity, project, name = parts
        check_name(entity, "entity name")
    else:
        raise BadUserInput(
            f"invalid artifact path {path!r}: expected '[entity/]project/name:alias' or ':vN'"
        )
    check_name(project, "project name")
    check_name(name, "artifact name")
    if len(spec) > 128 or "/" in spec:
        raise BadUserInput(f"invalid alias or version {spec!r} in artifact path {path!r}")
    return ArtifactPath(entity, project, name, spec)
