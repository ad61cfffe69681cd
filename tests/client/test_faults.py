"""Retries and URL refreshes, against a faulty network between the client and a real
``lineage serve`` (whose signed URLs point through that network and last 5 s)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import lineage
from tests.client.conftest import lasting_dir
from tests.client.proxy import FaultyProxy, faulty_proxy
from tests.client.serve import ServeProcess, free_port, start_serve
from tests.fixtures.service import Account, unique

URL_TTL_SECONDS = 5
EXPIRED = f"hold:{URL_TTL_SECONDS + 1.5}"  # held past the URL's lifetime


@pytest.fixture(scope="module")
def proxy_and_server(serve_env: dict[str, str]) -> Iterator[tuple[FaultyProxy, ServeProcess]]:
    port = free_port()
    with faulty_proxy(f"http://127.0.0.1:{port}") as proxy, lasting_dir("lineage-faulty-") as data:
        env = {**serve_env, "LINEAGE_PUBLIC_URL": proxy.url,
               "LINEAGE_SIGNED_URL_TTL_SECONDS": str(URL_TTL_SECONDS)}  # fmt: skip
        served = start_serve(data, env, port)
        yield proxy, served
        served.stop()


@pytest.fixture
def proxy(proxy_and_server: tuple[FaultyProxy, ServeProcess]) -> Iterator[FaultyProxy]:
    proxy = proxy_and_server[0]
    proxy.faults.clear()
    proxy.seen.clear()
    yield proxy
    assert not proxy.faults, "a fault planned for the test was never met"


def log_files(
    proxy: FaultyProxy, account: Account, tmp_path: Path, count: int
) -> tuple[str, dict[str, bytes]]:
    files = {f"f{i}.bin": os.urandom(1000 + i) for i in range(count)}
    (tmp_path / "src").mkdir()
    for name, data in files.items():
        (tmp_path / "src" / name).write_bytes(data)
    project = unique("p")
    with lineage.init(project=project, base_url=proxy.url, api_key=account.key) as run:
        artifact = lineage.Artifact("data", "dataset")
        artifact.add_dir(tmp_path / "src")
        run.log_artifact(artifact)
    return project, files


def file_requests(proxy: FaultyProxy, method: str) -> list[str]:
    return [path for m, path in proxy.seen if m == method and path.startswith("/files/")]


def test_downloads_retry_on_503_429_and_dropped_connections(
    proxy: FaultyProxy, account: Account, tmp_path: Path
) -> None:
    project, files = log_files(proxy, account, tmp_path, 3)
    api = lineage.Api(base_url=proxy.url, api_key=account.key)
    artifact = api.artifact(f"{project}/data:latest")
    proxy.seen.clear()
    proxy.fail_next("GET", "/files/", "503", "429", "drop")

    target = artifact.download(tmp_path / "out")

    assert {p.name: p.read_bytes() for p in target.iterdir()} == files
    assert len(file_requests(proxy, "GET")) == 3 + 3  # each failure asked again


def test_uploads_retry_on_503_and_dropped_connections(
    proxy: FaultyProxy, account: Account, tmp_path: Path
) -> None:
    proxy.fail_next("PUT", "/files/", "503", "drop")
    project, files = log_files(proxy, account, tmp_path, 2)
    assert len(file_requests(proxy, "PUT")) == 2 + 2
    artifact = lineage.Api(base_url=proxy.url, api_key=account.key).artifact(f"{project}/data:v0")
    assert {e.path: e.digest for e in artifact.manifest.entries.values()} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items()
    }


def test_graphql_requests_retry_on_503_and_dropped_connections(
    proxy: FaultyProxy, account: Account
) -> None:
    api = lineage.Api(base_url=proxy.url, api_key=account.key)
    proxy.fail_next("POST", "/graphql", "503", "drop")
    assert api.viewer() == account.name
    assert len([m for m, _ in proxy.seen if m == "POST"]) == 3


def test_an_expired_download_url_is_fetched_again(
    proxy: FaultyProxy, account: Account, tmp_path: Path
) -> None:
    project, files = log_files(proxy, account, tmp_path, 1)
    artifact = lineage.Api(base_url=proxy.url, api_key=account.key).artifact(f"{project}/data:v0")
    proxy.seen.clear()
    proxy.fail_next("GET", "/files/", EXPIRED)

    target = artifact.download(tmp_path / "out")

    assert (target / "f0.bin").read_bytes() == files["f0.bin"]
    first, second = file_requests(proxy, "GET")
    assert first != second  # a fresh signature, after the service refused the old one


def test_an_expired_upload_url_logs_the_version_again(
    proxy: FaultyProxy, account: Account, tmp_path: Path
) -> None:
    proxy.fail_next("PUT", "/files/", EXPIRED)
    project, files = log_files(proxy, account, tmp_path, 1)
    first, second = file_requests(proxy, "PUT")
    assert first.split("?")[0] != second.split("?")[0]  # another pending version's key
    artifact = lineage.Api(base_url=proxy.url, api_key=account.key).artifact(
        f"{project}/data:latest"
    )
    assert artifact.version == "v0"
    assert (artifact.download(tmp_path / "out") / "f0.bin").read_bytes() == files["f0.bin"]
