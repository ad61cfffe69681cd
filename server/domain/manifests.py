"""Manifest entries: validation, the content digest, and listing by path prefix.

The digest is the one docs/semantics.md defines: sha256 hex of one line ``path + "\\t" + entryDigest + "\\n"``
per entry, sorted by path in byte order, so clients can compute it themselves.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from server.db.database import Queryable
from server.db.rows import RowBuilder
from server.domain.names import check_storable_text
from server.domain.pagination import (
    OnePage,
    PageArgs,
    PageKey,
    Slice,
    check_cursor_shape,
    cursor_params,
    page_key,
    pages_by_parent,
)
from server.domain.sql import manifests as sql
from server.errors import BadUserInput

MAX_ENTRIES = 100_000
MAX_PATH_BYTES = 1024
SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class EntryInput:
    """One entry as a client sent it (before references are expanded)."""

    path: str
    digest: str | None = None
    size: int | None = None
    ref: str | None = None
    checksum: bool = True
    # for references: what the client measured with its own credentials
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class Entry:
    path: str
    digest: str
    size: int | None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        return self.ref is None


def check_path(path: str) -> str:
    problem = None
    if not path:
        problem = "it is empty"
    elif len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        problem = f"it is longer than {MAX_PATH_BYTES} bytes"
    elif path.startswith("/"):
        problem = "it is absolute (starts with '/')"
    elif any(ch in path for ch in "\x00\t\n\r"):
        problem = "it contains NUL, tab or a line break"
    elif any(seg in ("..", ".", "") for seg in path.split("/")):
        problem = "it has an empty, '.' or '..' segment"
    if problem:
        raise BadUserInput(
            f"invalid manifest path {path[:100]!r}: {problem}; use a relative POSIX path"
        )
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise BadUserInput(f"invalid manifest path {path[:100]!r}: not valid UTF-8") from None
    return path


def check_stored_entry(entry: EntryInput) -> Entry:
    check_path(entry.path)
    digest = (entry.digest or "").lower()
    if not SHA256_RE.fullmatch(digest):
        raise BadUserInput(
            f"entry {entry.path!r}: digest must be the sha256 of the file as 64 hex digits"
        )
    if entry.size is None or entry.size < 0:
        raise BadUserInput(f"entry {entry.path!r}: size must be given and not negative")
    return Entry(entry.path, digest, entry.size)


def check_unique_paths(entries: Sequence[Entry]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            raise BadUserInput(f"manifest path {entry.path!r} appears twice; paths must be unique")
        seen.add(entry.path)


def manifest_digest(entries: Sequence[Entry]) -> str:
    lines = sorted((e.path.encode(), e.digest) for e in entries)
    h = hashlib.sha256()
    for path, digest in lines:
        h.update(path + b"\t" + digest.encode() + b"\n")
    return h.hexdigest()


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string after every string starting with prefix (code point order =
    UTF-8 byte order = the "C" collation of the path column)."""
    while prefix:
        last = ord(prefix[-1])
        if last == 0xD7FF:  # the next code point after the surrogate gap
            return prefix[:-1] + chr(0xE000)
        if last < 0x10FFFF and not 0xD800 <= last < 0xE000:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def entry_page_key(version_id: int, prefix: str | None, page: PageArgs) -> PageKey:
    check_cursor_shape(page.after, [str])
    if prefix is not None:
        check_storable_text(prefix, "prefix")
    return page_key(version_id, page, prefix)


def _path_range(prefix: str | None) -> tuple[bool, dict[str, str]]:
    """The paths starting with ``prefix`` (any path for None) as a range: whether it has
    an upper bound, and its parameters (see sql/manifests.py)."""
    upper = _prefix_upper_bound(prefix) if prefix else None
    if upper is None:
        return False, {"path_from": prefix or ""}
    return True, {"path_from": prefix or "", "path_until": upper}


_ENTRY = RowBuilder(Entry, ("path", "digest", "size", "ref", "extra"))


async def entry_pages(db: Queryable, keys: Sequence[PageKey]) -> list[Slice[Entry]]:
    """Entries of versions in path order, those starting with the key's prefix (its
    shape) only; an index range scan of the (version_id, path) primary key each."""

    def one_page(key: PageKey) -> OnePage:
        prefix = cast(str | None, key.shape)
        bounded, params = _path_range(prefix)
        # a cursor before the range is no condition: the range starts later
        after = key.after is not None and key.after[0] >= (prefix or "")
        cursor = cursor_params(key.after) if after else {}
        return OnePage(sql.entry_page(bounded, after), {**params, **cursor})

    slices = []
    for rows, has_next in await pages_by_parent(db, keys, one_page):
        items = _ENTRY.all(rows)
        slices.append(Slice(items, [[e.path] for e in items], has_next))
    return slices


async def entry_counts(
    db: Queryable, keys: Sequence[tuple[int, str | None]]
) -> dict[tuple[int, str | None], int]:
    """How many entries each (version id, prefix or None) has."""
    found: dict[tuple[int, str | None], int] = {}
    by_prefix: dict[str | None, list[int]] = defaultdict(list)
    for version, prefix in keys:
        by_prefix[prefix].append(version)
    for prefix, versions in by_prefix.items():
        bounded, params = _path_range(prefix)
        rows = await db.fetch(
            sql.entry_counts(bounded), version_ids=sorted(set(versions)), **params
        )
        for r in rows:
            found[(r["version_id"], prefix)] = r["n"]
    return found
