"""One frozen settings object, read from the environment and CLI flags.

Nothing else in the code base reads ``os.environ``: everything that can be configured
is a field here, so a test or the CLI can build exactly the settings it wants.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("lineage-data", appauthor=False))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    worker_interval: float = 60.0
    gc_grace_seconds: int = 3600
    # how often the worker lists the blob store for blobs no row records (worker.py)
    orphan_sweep_seconds: float = 3600.0
    pending_max_age_seconds: int = 24 * 3600
    signed_url_ttl_seconds: int = 3600
    # how long a SIGTERM waits for in-flight requests (and the worker's current item)
    shutdown_timeout_seconds: float = 30.0
    log_level: str = "INFO"
    pool_min_size: int = 2
    pool_max_size: int = 20
    # buckets ("bucket" or "bucket/prefix") whose objects the server reads and signs for
    # reference entries; elsewhere it records what the client measured
    reference_buckets: tuple[str, ...] = ()
    # the longest a GraphQL request may run, and a single SQL statement within it
    request_timeout_seconds: float = 60.0
    statement_timeout_seconds: float = 30.0
    run_worker: bool = True
    # how long a web app sign-in lasts (the session cookie and its row)
    session_ttl_seconds: int = 7 * 24 * 3600
    # `lineage serve` on a brand-new database creates user "admin" and prints its key
    bootstrap_admin: bool = False
    # False answers every request through graphql-core's own execution path, without the
    # fast executor (resolvers/execution.py): the same answers, big ones slower
    fast_execution: bool = True
    # `lineage serve`'s HTTP worker processes (server/serve.py); 0: one per core
    workers: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        data_dir = env.get("LINEAGE_DATA_DIR")
        settings = cls(
            data_dir=Path(data_dir) if data_dir else default_data_dir(),
            database_url=env.get("DATABASE_URL") or None,
            storage_url=env.get("STORAGE_URL") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            secret=env.get("LINEAGE_SECRET") or None,
            public_url=env.get("LINEAGE_PUBLIC_URL") or None,
            worker_interval=float(env.get("LINEAGE_WORKER_INTERVAL", "60")),
            gc_grace_seconds=int(env.get("LINEAGE_GC_GRACE_SECONDS", "3600")),
            orphan_sweep_seconds=float(env.get("LINEAGE_ORPHAN_SWEEP_SECONDS", "3600")),
            pending_max_age_seconds=int(env.get("LINEAGE_PENDING_MAX_AGE_SECONDS", "86400")),
            shutdown_timeout_seconds=float(env.get("LINEAGE_SHUTDOWN_TIMEOUT", "30")),
            signed_url_ttl_seconds=int(env.get("LINEAGE_SIGNED_URL_TTL_SECONDS", "3600")),
            log_level=env.get("LINEAGE_LOG_LEVEL", "INFO").upper(),
            session_ttl_seconds=int(env.get("LINEAGE_SESSION_TTL_SECONDS", str(7 * 24 * 3600))),
            reference_buckets=tuple(
                part.strip()
                for part in env.get("LINEAGE_REFERENCE_BUCKETS", "").split(",")
                if part.strip()
            ),
            request_timeout_seconds=float(env.get("LINEAGE_REQUEST_TIMEOUT_SECONDS", "60")),
            statement_timeout_seconds=float(env.get("LINEAGE_STATEMENT_TIMEOUT_SECONDS", "30")),
            fast_execution=_flag(env, "LINEAGE_FAST_EXECUTION", default=True),
            workers=int(env.get("LINEAGE_WORKERS", "0")),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"])
        return replace(settings, **given)

    @property
    def base_url(self) -> str:
        """Where clients reach this server: the root of signed /files URLs."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "blobs").resolve().as_uri()


_FLAG_VALUES = {"1": True, "true": True, "yes": True, "on": True,
                "0": False, "false": False, "no": False, "off": False}  # fmt: skip


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _FLAG_VALUES:
        raise ValueError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {value!r}")
    return _FLAG_VALUES[value]
