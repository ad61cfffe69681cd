"""Streaming sha256: memory stays flat whatever the file size."""

from __future__ import annotations

import hashlib
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
