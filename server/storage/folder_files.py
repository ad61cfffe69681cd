"""The folder store's blocking file operations (server/storage/folder.py runs each from a
thread, or inside a function that does)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from server.storage.base import HASH_CHUNK, BoundedHasher


def holds_blob(blob: str, size: int) -> bool:
    """Whether a staged upload that is gone was promoted already: by an earlier attempt of
    the same commit whose transaction then failed (a deadlock, a lost database), or by a
    commit of other content racing this one. Only a verified promotion creates a blob, so
    one that exists holds exactly the bytes its name says."""
    try:
        info = os.lstat(blob)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


class TempFile:
    """An upload in flight under ``.tmp`` (blocking calls: use from a thread)."""

    def __init__(self, directory: Path) -> None:
        self.fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
        self.path = Path(name)
        self.closed = False

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def file_matches(path: Path, sha256: str, size: int) -> bool:
    hasher = BoundedHasher(size)
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            if not hasher.update(chunk):
                return False
    return hasher.matches(sha256)


def remove_empty_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone: both fine
        path.rmdir()


def delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
        if path.parent.parent.name == "staging":
            remove_empty_dir(path.parent)


def scan(directory: Path) -> list[tuple[str, bool, int, float]]:
    try:
        with os.scandir(directory) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []
    result = []
    for entry in entries:
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        stat = entry.stat(follow_symlinks=False)
        result.append((entry.name, is_dir, stat.st_size, stat.st_mtime))
    result.sort()
    return result
