"""Fixtures of the browser tests: a real `lineage serve` (its own database on the test
session's Postgres, the folder store), seeded through the public API, and Debian's
chromium driven by Playwright. Every page a test opens runs with all non-loopback
requests aborted and recorded, and with console errors (CSP violations among them)
recorded: a test fails if either list is not empty."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from server.db.database import Database
from server.db.pool import create_pool
from server.domain import accounts
from tests.web.pipeline import Client, Pipeline, log_artifacts, seed_pipeline, upsert_runs

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LINEAGE_TEST_CHROMIUM", "/usr/bin/chromium"))
# no component updates, sync or other calls home: the tests also check that nothing
# leaves the machine, and these would be the browser's own requests, not the app's
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
KEY = re.compile(r"lin_[A-Za-z0-9_-]{20,}")
XSS_IMG = "<img src=x onerror=window.__xss=1>"
XSS_SCRIPT = "<script>window.__xss=1</script>"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    reader: threading.Thread | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.reader is not None:
            self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_web_server(database_url: str, data_dir: Path) -> WebServer:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINEAGE_", "AWS_")) and k not in ("STORAGE_URL", "S3_ENDPOINT_URL")
    }
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    command = shutil.which("lineage", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(
        [*([command] if command else [sys.executable, "-m", "server.cli"]), "serve"]
        + ["--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    server = WebServer(f"http://127.0.0.1:{port}", process)

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line)

    server.reader = threading.Thread(target=drain, daemon=True)
    server.reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling for readiness, with a deadline
    server.stop()
    raise AssertionError("lineage serve did not start:\n" + "".join(server.output))


@dataclass
class World:
    """What the browser tests look at."""

    url: str
    admin: str
    alice: str  # owns everything below
    bob: str  # signed in, member of nothing of alice's
    bob_key: str
    alice_key: str
    pipeline: Pipeline  # public
    secret_project: str  # alice's private project; its run used the public dataset
    xss_run: str  # run path in the public "xss" project
    xss_artifact: str  # artifact path there
    deleted_model: str  # a tombstone in the pipeline


async def _user(database_url: str, name: str) -> str:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        _, issued = await accounts.create_user(Database(pool), name)
    finally:
        await pool.close()
    return issued.key


def _seed(client: Client, alice: str, world: dict[str, Any]) -> None:
    def make_project(name: str, visibility: str) -> None:
        client.gql(
            "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
            {"i": {"entity": alice, "name": name, "visibility": visibility}},
        )

    make_project("pipeline", "PUBLIC")
    pipeline = seed_pipeline(client, alice, "pipeline", trains=12)
    # a sweep of three more runs (28 runs: two pages of the runs table)
    client.gql(
        'mutation { createSweep(input: {project: "pipeline", sweepId: "sw1", name: "lr search",'
        ' config: {metric: {name: "acc", goal: "maximize"}}}) { id } }'
    )
    upsert_runs(
        client,
        alice,
        "pipeline",
        [{"runId": f"sweep-run-{i}", "name": f"sweep-run-{i}", "sweep": "sw1"} for i in range(3)],
    )
    client.batch(
        "updateRun",
        "UpdateRunInput",
        [
            {"run": f"{alice}/pipeline/sweep-run-{i}", "summary": {"acc": acc}, "state": "FINISHED"}
            for i, acc in enumerate([0.7, 0.95, 0.8])
        ],
        "id",
    )
    deleted = pipeline.models[-1]
    model_id = client.gql("query($p: String!) { artifact(path: $p) { id } }", {"p": deleted})
    client.gql(
        "mutation($id: ID!) { deleteArtifact(id: $id, deleteAliases: true) { state } }",
        {"id": model_id["artifact"]["id"]},
    )

    make_project("secret", "PRIVATE")
    upsert_runs(client, alice, "secret", [{"runId": "hidden-run", "name": "hidden-run"}])
    client.batch(
        "useArtifact",
        "UseArtifactInput",
        [{"run": f"{alice}/secret/hidden-run", "artifact": pipeline.dataset}],
        "id",
    )
    log_artifacts(
        client,
        [
            {
                "run": f"{alice}/secret/hidden-run",
                "name": "secret-model",
                "type": "model",
                "entries": ["secret.bin"],
            }
        ],
        {"secret.bin": b"top secret weights"},
    )

    make_project("xss", "PUBLIC")
    upsert_runs(
        client,
        alice,
        "xss",
        [{"runId": "payload", "name": XSS_IMG, "config": {XSS_IMG: XSS_SCRIPT}}],
    )
    client.batch(
        "updateRun",
        "UpdateRunInput",
        [{"run": f"{alice}/xss/payload", "summary": {"note": XSS_SCRIPT, "acc": 1}}],
        "id",
    )
    [logged] = log_artifacts(
        client,
        [
            {
                "run": f"{alice}/xss/payload",
                "name": "payload-data",
                "type": "payload",
                "description": f"{XSS_IMG} and {XSS_SCRIPT}",
                "metadata": {XSS_IMG: XSS_SCRIPT, "nested": {"html": XSS_IMG}},
                "aliases": [XSS_IMG],
                "entries": [f"dir/{XSS_IMG}.txt", f"{XSS_SCRIPT}.txt"],
            }
        ],
        {f"dir/{XSS_IMG}.txt": b"one", f"{XSS_SCRIPT}.txt": b"two"},
    )
    world.update(
        pipeline=pipeline,
        secret_project="secret",
        xss_run=f"{alice}/xss/payload",
        xss_artifact=logged["path"],
        deleted_model=deleted,
    )


@pytest.fixture(scope="session")
async def world(
    fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    database_url = await fresh_database("lineage_web")
    server = start_web_server(database_url, tmp_path_factory.mktemp("web-data"))
    try:
        admin = KEY.findall("".join(server.output))[0]
        alice, bob = "alice", "bob"
        alice_key = await _user(database_url, alice)
        bob_key = await _user(database_url, bob)
        seeded: dict[str, Any] = {}
        _seed(Client(server.url, alice_key), alice, seeded)
        yield World(
            url=server.url,
            admin=admin,
            alice=alice,
            bob=bob,
            alice_key=alice_key,
            bob_key=bob_key,
            **seeded,
        )
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - one stat, once per session
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@dataclass
class Watch:
    """What a page tried that it must not: requests off the machine, console errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")


@pytest.fixture
async def watch() -> Watch:
    return Watch()


@pytest.fixture
async def context(browser: Any, watch: Watch) -> AsyncIterator[Any]:
    context = await browser.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True
    )

    async def guard(route: Any) -> None:
        if _loopback(route.request.url):
            await route.continue_()
        else:
            watch.outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", guard)
    context.on("page", lambda page: _watch_page(page, watch))
    yield context
    await context.close()
    assert watch.outside == [], f"requests that would leave the machine: {watch.outside}"
    assert watch.errors == [], f"errors in the browser: {watch.errors}"


def _watch_page(page: Any, watch: Watch) -> None:
    page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))

    def console(message: Any) -> None:
        # a failed GraphQL or sign-in request the test made on purpose logs as an error
        # resource load; anything else an error (CSP violations included) is a failure
        if message.type == "error" and "Failed to load resource" not in message.text:
            watch.errors.append(f"console: {message.text}")

    page.on("console", console)
    page.on("dialog", lambda dialog: watch.errors.append(f"dialog opened: {dialog.message}"))


@pytest.fixture
async def page(context: Any) -> Any:
    return await context.new_page()


def artifact_url(path: str, lineage: str = "") -> str:
    """The web app's URL of an artifact path "entity/project/name:version"."""
    entity, project, rest = path.split("/")
    name, version = rest.rsplit(":", 1)
    return f"/{entity}/{project}/artifacts/{name}/{version}{lineage}"


def graph_ready(page: Any) -> Any:
    return page.wait_for_selector("[data-lineage][data-state=ready]", timeout=20_000)
