"""The real `lineage serve` when its embedded Postgres dies or stalls, and on SIGTERM.

Faults are the real thing: kill -9 and SIGSTOP of the Postgres processes, SIGTERM of the
server, while clients keep committing over HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from tests.e2e.test_serve import (
    Server,
    admin_key,
    postgres_running,
    postmaster_pid,
    start_server,
)

LOG = """mutation($input: LogArtifactInput!) {
  logArtifact(input: $input) { artifact { id state version } } }"""
LOG_WITH_UPLOADS = """mutation($input: LogArtifactInput!) {
  logArtifact(input: $input) { artifact { id } uploads { url } } }"""
COMMIT = "mutation($id: ID!) { commitArtifact(id: $id) { id } }"
UPSERT = 'mutation($r: String!) { upsertRun(input: {project: "rel", runId: $r}) { path } }'
VERSIONS = """query($e: String!) { project(entity: $e, name: "rel") {
  artifactCollection(name: "ds") { versions(first: 1000) { totalCount edges { node { id version } } } } } }"""
HELD = b"held content for the reliability tests\n"


@dataclass
class Outcomes:
    """What the clients saw: an error code per answer (None: success), and the ids of the
    versions the service acknowledged as committed."""

    codes: list[str | None] = field(default_factory=list)
    committed: set[str] = field(default_factory=set)
    refused: int = 0  # requests that got no HTTP answer at all


def _entries(tag: str) -> list[dict[str, Any]]:
    return [{"path": f"{tag}.bin", "digest": hashlib.sha256(HELD).hexdigest(), "size": len(HELD)}]


async def post(client: httpx.AsyncClient, key: str, query: str, variables: Any) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {key}"},
    )


async def seed(server: Server) -> tuple[str, str]:
    """The admin key and a run; HELD is stored (v0 of "ds"), so later logs of it commit
    inside logArtifact."""
    key = admin_key(server)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        run = (await post(client, key, UPSERT, {"r": "r1"})).json()["data"]["upsertRun"]["path"]
        variables = {
            "input": {"run": run, "name": "ds", "type": "dataset", "entries": _entries("seed")}
        }
        logged = (await post(client, key, LOG_WITH_UPLOADS, variables)).json()["data"][
            "logArtifact"
        ]
        if logged["uploads"]:  # the first time in this data dir
            response = await client.put(logged["uploads"][0]["url"], content=HELD)
            assert response.status_code == 200, response.text
            committed = await post(client, key, COMMIT, {"id": logged["artifact"]["id"]})
            assert "errors" not in committed.json(), committed.text
    return key, run


async def keep_logging(
    url: str, key: str, run: str, tag: str, stop: asyncio.Event, seen: Outcomes
) -> None:
    """Log new versions of held content (each commits in its log) until ``stop``."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            variables = {
                "input": {
                    "run": run,
                    "name": "ds",
                    "type": "dataset",
                    "entries": _entries(f"{tag}-{n}"),
                }
            }
            try:
                response = await post(client, key, LOG, variables)
            except httpx.TransportError:
                seen.refused += 1
                await asyncio.sleep(0.05)  # the server is going away: pace the retries
                continue
            body = response.json()
            if body.get("errors"):
                seen.codes.append(body["errors"][0]["extensions"]["code"])
                continue
            assert response.status_code == 200, response.text
            artifact = body["data"]["logArtifact"]["artifact"]
            assert artifact["state"] == "COMMITTED", artifact
            seen.codes.append(None)
            seen.committed.add(artifact["id"])


async def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def ready(server: Server) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            return (await client.get(f"{server.url}/readyz")).status_code == 200
        except httpx.TransportError:
            return False


async def versions(server: Server, key: str, entity: str = "admin") -> set[str]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        data = (await post(client, key, VERSIONS, {"e": entity})).json()["data"]
    found = data["project"]["artifactCollection"]["versions"]
    indices = sorted(int(e["node"]["version"][1:]) for e in found["edges"])
    assert indices == list(range(found["totalCount"])), "version indices have gaps"
    return {e["node"]["id"] for e in found["edges"]}


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    pid = postmaster_pid(data_dir)
    assert pid is not None
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


@contextmanager
def stopped(processes: list[psutil.Process]) -> Iterator[None]:
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGCONT)


async def test_a_killed_embedded_postgres_is_restarted_while_clients_keep_committing(
    data_dir: Path,
) -> None:
    server = start_server(data_dir)
    try:
        key, run = await seed(server)
        before = await versions(server, key)
        first_pid = postmaster_pid(data_dir)
        assert first_pid is not None
        stop, seen = asyncio.Event(), Outcomes()
        clients = [
            asyncio.create_task(keep_logging(server.url, key, run, f"c{i}", stop, seen))
            for i in range(4)
        ]
        await wait_until(lambda: _answered(seen, 20), 30, "a first few commits")
        os.kill(first_pid, signal.SIGKILL)
        await wait_until(lambda: _not_ready(server), 10, "/readyz to notice the outage")
        await wait_until(lambda: ready(server), 60, "the restarted database")
        answered = len(seen.codes)
        await wait_until(lambda: _answered(seen, answered + 20), 30, "commits after the restart")
        stop.set()
        await asyncio.gather(*clients)

        # every answer was a success or UNAVAILABLE: never INTERNAL, never a hang
        assert set(seen.codes) <= {None, "UNAVAILABLE"}, seen.codes
        assert seen.refused == 0
        assert postmaster_pid(data_dir) not in (None, first_pid)
        # nothing acknowledged was lost, before the kill or during the outage
        assert before | seen.committed <= await versions(server, key)
        log = "".join(server.stderr)
        assert "is not running; starting it again" in log
        assert "embedded postgres is back" in log
    finally:
        code = server.stop()
    assert code == 0, "".join(server.stderr)
    assert not postgres_running(data_dir)


async def _answered(seen: Outcomes, n: int) -> bool:
    return len(seen.codes) >= n


async def _not_ready(server: Server) -> bool:
    return not await ready(server)


async def test_readyz_answers_503_in_time_while_postgres_is_stalled(data_dir: Path) -> None:
    server = start_server(data_dir)
    try:
        assert await ready(server)
        with stopped(postgres_processes(data_dir)):
            async with httpx.AsyncClient(timeout=30) as client:
                for _ in range(3):  # later probes wait on the first one's check
                    started = time.monotonic()
                    response = await client.get(f"{server.url}/readyz")
                    elapsed = time.monotonic() - started
                    assert response.status_code == 503
                    assert response.json()["problems"] == ["database unreachable"]
                    assert elapsed < 3.0, f"/readyz took {elapsed:.1f}s"
        await wait_until(lambda: ready(server), 30, "/readyz after the stall")
    finally:
        code = server.stop()
    assert code == 0, "".join(server.stderr)


BIG_ENTRIES = 100_000
BIG = '{ artifact(path: "admin/rel/big:v0") { id fileCount } }'


async def test_sigterm_under_load_finishes_in_flight_requests_and_stops_cleanly(
    data_dir: Path,
) -> None:
    server = start_server(data_dir, {"LINEAGE_WORKER_INTERVAL": "0.2"})
    restarted: Server | None = None
    try:
        key, run = await seed(server)
        stop, seen = asyncio.Event(), Outcomes()
        clients = [
            asyncio.create_task(keep_logging(server.url, key, run, f"c{i}", stop, seen))
            for i in range(4)
        ]
        await wait_until(lambda: _answered(seen, 20), 30, "a first few commits")
        # a request that takes seconds: in flight when SIGTERM comes
        digest = hashlib.sha256(HELD).hexdigest()
        big = {"input": {"run": run, "name": "big", "type": "dataset", "entries": [
            {"path": f"f{i:06}", "digest": digest, "size": len(HELD)} for i in range(BIG_ENTRIES)
        ]}}  # fmt: skip
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            in_flight = asyncio.create_task(post(client, key, LOG, big))
            await asyncio.sleep(0.5)  # sent, and far from done (it takes several seconds)
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            response = await in_flight
            finished = time.monotonic()
        assert not in_flight.cancelled()
        assert response.status_code == 200, response.text
        big_version = response.json()["data"]["logArtifact"]["artifact"]
        assert big_version["state"] == "COMMITTED"
        exit_code = await asyncio.to_thread(server.process.wait, 60)
        stopped_at = time.monotonic()
        stop.set()
        await asyncio.gather(*clients)

        assert exit_code == 0
        assert finished > signalled + 0.2, "the big request was not in flight at SIGTERM"
        assert stopped_at - signalled < 30, "shutdown took longer than its bound"
        # every answer before the end was complete and successful
        assert set(seen.codes) == {None}, seen.codes
        stderr = "".join(server.stderr)
        assert "Traceback" not in stderr, stderr
        assert "worker pass failed" not in stderr
        assert "did not stop in time" not in stderr
        assert not postgres_running(data_dir)

        restarted = start_server(data_dir)
        assert seen.committed <= await versions(restarted, key)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as client:
            found = await post(client, key, BIG, {})
        assert found.json()["data"]["artifact"] == {
            "id": big_version["id"],
            "fileCount": BIG_ENTRIES,
        }
    finally:
        server.close()
        if restarted is not None:
            assert restarted.stop() == 0


@asynccontextmanager
async def collections_locked(data_dir: Path) -> AsyncIterator[asyncpg.Connection]:
    """A transaction of our own, on the server's embedded Postgres, that holds
    artifact_collections against writes: a log of a new collection waits on it for as long
    as we like (reads are not blocked). Rolled back on exit."""
    # from postmaster.pid (port, then socket directory), not embedded_postgres.get_server:
    # a handle from this process would count as a user and keep the server from stopping
    lines = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    conn = await asyncpg.connect(host=lines[4], port=int(lines[3]), user="postgres")
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("LOCK TABLE artifact_collections IN EXCLUSIVE MODE")
        yield conn
        await transaction.rollback()
    finally:
        with suppress(Exception):  # the server may have stopped Postgres under us
            await conn.close()


async def test_a_request_outliving_the_shutdown_bound_is_cut_and_changes_nothing(
    data_dir: Path,
) -> None:
    """The request is held in flight by a lock of ours (not by guessing how long a big one
    takes): it waits on Postgres when SIGTERM comes and past the 0.5 s bound."""
    server = start_server(data_dir, {"LINEAGE_SHUTDOWN_TIMEOUT": "0.5"})
    restarted: Server | None = None
    try:
        key, run = await seed(server)
        held = {"input": {"run": run, "name": "big", "type": "dataset", "entries": _entries("b")}}
        async with (
            collections_locked(data_dir) as conn,
            httpx.AsyncClient(base_url=server.url, timeout=120) as client,
        ):
            in_flight = asyncio.create_task(post(client, key, LOG, held))

            async def waiting_on_our_lock() -> bool:
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                )
                return bool(waiting)

            await wait_until(waiting_on_our_lock, 30, "the log to wait on the lock")
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            answer = await in_flight
        exit_code = await asyncio.to_thread(server.process.wait, 60)
        stopped_at = time.monotonic()
        assert exit_code == 0
        # cut, and told so: nothing happened, send it again
        assert answer.status_code == 503, answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert stopped_at - signalled < 5, f"stopped {stopped_at - signalled:.1f}s after SIGTERM"
        assert not postgres_running(data_dir)
        restarted = start_server(data_dir)
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as client:
            found = await post(client, key, BIG, {})
        assert found.json()["data"]["artifact"] is None  # its transaction was rolled back
    finally:
        server.close()
        if restarted is not None:
            assert restarted.stop() == 0
