"""The real `lineage` command: serve on a fresh data dir, manage users and keys, stop, restart."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"lin_[A-Za-z0-9_-]{20,}")
START_TIMEOUT = 60.0


def lineage_command() -> list[str]:
    found = shutil.which("lineage", path=str(Path(sys.executable).parent)) or shutil.which(
        "lineage"
    )
    return [found] if found else [sys.executable, "-m", "server.cli"]


def cli_env() -> dict[str, str]:
    """The environment of a fresh machine: no database or store configured, this checkout's code."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LINEAGE_")
        and k not in ("DATABASE_URL", "STORAGE_URL", "S3_ENDPOINT_URL")
    }
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def gql(self, query: str, key: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query}, headers=headers, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def output(self) -> str:
        return "".join(self.stdout)

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would, and wait for a clean exit."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self.readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _drain(stream: Any, into: list[str]) -> None:
    for line in stream:
        into.append(line)


def start_server(
    data_dir: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [*lineage_command(), "serve", "--port", str(port), "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli_env(), **(env or {})},
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}", data_dir)
    for stream, into in ((process.stdout, server.stdout), (process.stderr, server.stderr)):
        reader = threading.Thread(target=_drain, args=(stream, into), daemon=True)
        reader.start()
        server.readers.append(reader)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling for readiness, with a deadline
    server.close()
    raise AssertionError(
        f"lineage serve not ready (exit code {process.returncode}):\n{''.join(server.stderr)}"
    )


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def postgres_running(data_dir: Path) -> bool:
    """Any live postgres process serving this data dir."""
    pgdata = str((data_dir / "postgres").resolve())
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if (
            proc.info["name"] == "postgres"
            and pgdata in cmdline
            and proc.info["status"] != psutil.STATUS_ZOMBIE
        ):
            return True
    return False


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*lineage_command(), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )


def admin_key(server: Server) -> str:
    keys = KEY.findall(server.output())
    assert len(keys) == 1, server.output()
    return str(keys[0])


VIEWER = "{ viewer { username } }"


def test_first_start_prints_an_admin_key_and_the_cli_manages_users_and_keys(data_dir: Path) -> None:
    server = start_server(data_dir)
    try:
        key = admin_key(server)
        assert server.gql(VIEWER, key) == {"data": {"viewer": {"username": "admin"}}}

        # while the server runs, on the same data dir: stdout is the key and nothing else
        created = run_cli("user", "create", "bob", "--data-dir", str(data_dir))
        assert created.returncode == 0, created.stderr
        assert KEY.fullmatch(created.stdout.strip()), created.stdout
        assert created.stdout == created.stdout.strip() + "\n"
        bob = created.stdout.strip()
        assert server.gql(VIEWER, bob) == {"data": {"viewer": {"username": "bob"}}}

        issued = run_cli("--data-dir", str(data_dir), "key", "create", "bob")
        assert issued.returncode == 0, issued.stderr
        second = issued.stdout.strip()
        assert KEY.fullmatch(second)
        assert second != bob
        assert server.gql(VIEWER, second)["data"]["viewer"] == {"username": "bob"}
        key_id = re.search(r"key id (\S+)", issued.stderr)
        assert key_id, issued.stderr

        revoked = run_cli("key", "revoke", key_id[1], "--data-dir", str(data_dir))
        assert revoked.returncode == 0, revoked.stderr
        assert server.gql(VIEWER, second)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert server.gql(VIEWER, bob)["data"]["viewer"] == {"username": "bob"}
        # the CLI joined the embedded postgres and left it running for the server
        assert server.gql(VIEWER, key)["data"]["viewer"] == {"username": "admin"}

        pid = postmaster_pid(data_dir)
        assert pid is not None
        assert postgres_running(data_dir)
    finally:
        code = server.stop()
    assert code == 0, "".join(server.stderr)
    assert "Traceback" not in "".join(server.stderr)
    # Ctrl-C stopped the embedded postgres too
    assert not postgres_running(data_dir)
    assert postmaster_pid(data_dir) is None


def test_a_restart_keeps_the_data_and_prints_no_new_key(data_dir: Path) -> None:
    # one process first (--workers 1 serves without a supervising parent), then the default
    first = start_server(data_dir, args=("--workers", "1"))
    try:
        key = admin_key(first)
        created = first.gql(
            'mutation { upsertRun(input: {project: "keep", runId: "r1", config: {a: 1}}) '
            "{ path } }",
            key,
        )
        assert created["data"]["upsertRun"]["path"] == "admin/keep/r1"
    finally:
        assert first.stop() == 0
    assert not postgres_running(data_dir)

    second = start_server(data_dir)
    try:
        assert KEY.search(second.output()) is None, second.output()
        assert "First start" not in second.output()
        data = second.gql('{ viewer { username } run(path: "admin/keep/r1") { config } }', key)
        assert data == {"data": {"viewer": {"username": "admin"}, "run": {"config": {"a": 1}}}}
    finally:
        assert second.stop() == 0
    assert not postgres_running(data_dir)
