"""Streaming sha256: memory stays flat whatever the file size."""

from __future__ import annotations

import hashlib
import queue
import threading
from pathlib import Path

CHUNK = 1024 * 1024  # hashlib releases the GIL on large updates: threads hash in parallel


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_matches(path: Path, sha256: str, size: int | None) -> bool:
    """Whether ``path`` holds exactly this content (size checked first: it is free)."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
        return sha256_file(path) == sha256
    except OSError:
        return False


class Hashes:
    """Digests of a stream fed chunk by chunk: inline for small streams, on a helper
    thread for large ones, so that hashing a big download overlaps reading it from the
    network (hashlib and socket reads both release the GIL; 8 chunks in flight at most)."""

    PIPELINE_FROM = 8 * CHUNK

    def __init__(self, algorithms: tuple[str, ...], expected_size: int | None) -> None:
        self._hashers = {name: hashlib.new(name, usedforsecurity=False) for name in algorithms}
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        if expected_size is not None and expected_size >= self.PIPELINE_FROM:
            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._drain, daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            for hasher in self._hashers.values():
                hasher.update(chunk)

    def update(self, chunk: bytes) -> None:
        if self._queue is None:
            for hasher in self._hashers.values():
                hasher.update(chunk)
        else:
            self._queue.put(chunk)

    def close(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigests(self) -> dict[str, str]:
        self.close()
        return {name: hasher.hexdigest() for name, hasher in self._hashers.items()}
