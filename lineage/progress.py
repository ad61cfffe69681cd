"""One progress bar per transfer: on a terminal only, and never with LINEAGE_SILENT=1."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

# below this, a transfer is over before a bar could tell anything
MIN_FILES = 2
MIN_BYTES = 1024 * 1024


def progress_wanted(files: int, total_bytes: int) -> bool:
    if os.environ.get("LINEAGE_SILENT", "").lower() not in ("", "0", "false", "no"):
        return False
    if not sys.stderr.isatty():
        return False
    return files >= MIN_FILES or total_bytes >= MIN_BYTES


class Progress:
    """Bytes done out of ``total_bytes``; safe to advance from many threads."""

    def __init__(self, description: str, files: int, total_bytes: int) -> None:
        self._bar: Any = None
        self._lock = threading.Lock()
        if progress_wanted(files, total_bytes):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_bytes,
                desc=f"{description} ({files} file{'s' if files != 1 else ''})",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.2,
            )

    def advance(self, nbytes: int) -> None:
        if self._bar is not None and nbytes:
            with self._lock:
                self._bar.update(nbytes)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
