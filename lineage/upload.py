"""Logging an artifact: hash -> logArtifact -> PUT what the service lacks -> commit."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.errors import BadInput, TransferError
from lineage.hashing import sha256_file
from lineage.progress import Progress
from lineage.transfer import UrlExpired, put, run_parallel

if TYPE_CHECKING:
    from lineage.api import Api
    from lineage.artifacts import Artifact, ManifestEntry

# hashing is CPU work (hashlib releases the GIL): a thread per core, and one more so a
# core is not idle while its thread waits on the disk
HASH_WORKERS = (os.cpu_count() or 1) + 1


def log_artifact(api: Api, run_path: str, artifact: Artifact, aliases: list[str]) -> None:
    if artifact.is_logged:
        raise BadInput(f"artifact {artifact.path} is logged already; make a new Artifact")
    entries = list(artifact._local.values())
    _hash_stored(entries)
    variables = {"input": _log_input(run_path, artifact, aliases, entries)}
    by_path = {e.path: e for e in entries}
    for attempt in (1, 2):
        payload = api.graphql(queries.LOG_ARTIFACT, variables)["logArtifact"]
        logged = payload["artifact"]
        if logged["state"] != "PENDING":  # committed at once: content held, or deduplicated
            artifact._bind(api, logged)
            return
        if _upload_all(api, artifact.name, payload["uploads"], by_path):
            break
        if attempt == 2:
            raise TransferError("upload URLs were refused twice (expired?); log the artifact again")
        # An upload URL expired before its turn came (a very long upload): logging the
        # same manifest again makes a new pending version with fresh URLs; the old one
        # is cleaned up by the service.
    committed = api.graphql(queries.COMMIT_ARTIFACT, {"id": logged["id"]})["commitArtifact"]
    artifact._bind(api, committed)


def _hash_stored(entries: list[ManifestEntry]) -> None:
    stored = [e for e in entries if e.ref is None and e.local_path is not None]
    total = sum(e.size or 0 for e in stored)
    with Progress("hashing", len(stored), total) as progress:

        def hash_one(entry: ManifestEntry) -> None:
            assert entry.local_path is not None
            size = entry.local_path.stat().st_size
            entry.digest, entry.size = sha256_file(entry.local_path), size
            progress.advance(size)

        with ThreadPoolExecutor(min(HASH_WORKERS, max(1, len(stored)))) as pool:
            list(pool.map(hash_one, stored))


def _log_input(
    run_path: str, artifact: Artifact, aliases: list[str], entries: list[ManifestEntry]
) -> dict[str, Any]:
    return {
        "run": run_path,
        "name": artifact.name,
        "type": artifact.type,
        "description": artifact.description,
        "metadata": artifact.metadata,
        "aliases": aliases,
        "entries": [_entry_input(e) for e in entries],
    }


def _entry_input(entry: ManifestEntry) -> dict[str, Any]:
    if entry.ref is None:
        return {"path": entry.path, "digest": entry.digest, "size": entry.size}
    sent: dict[str, Any] = {"path": entry.path, "ref": entry.ref, "checksum": entry.checksum}
    if entry.checksum and entry.digest is not None:  # measured here, with our credentials
        sent.update(etag=entry.digest, size=entry.size, versionId=entry.extra.get("versionID"))
    return sent


def _upload_all(
    api: Api, name: str, uploads: list[dict[str, Any]], by_path: dict[str, ManifestEntry]
) -> bool:
    """PUT every upload target; False when some URL was refused as expired."""
    expired = threading.Event()
    total = sum(by_path[u["path"]].size or 0 for u in uploads)
    with Progress(f"uploading {name}", len(uploads), total) as progress:

        def upload(target: dict[str, Any]) -> None:
            entry = by_path[target["path"]]
            assert entry.local_path is not None
            if expired.is_set():
                return  # the whole version is logged again: no use sending more
            try:
                put(
                    api.transport.http, target["url"], dict(target["headers"] or {}),
                    entry.local_path, entry.size or 0, progress.advance,
                )  # fmt: skip
            except UrlExpired:
                expired.set()

        run_parallel(uploads, upload, lambda u: f"uploading {u['path']}")
    return not expired.is_set()
