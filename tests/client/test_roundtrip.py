"""Logging and downloading through the client: folders, big files, dedup, the cache."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import lineage
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account, unique


def write_tree(root: Path, count: int) -> dict[str, bytes]:
    files = {}
    for index in range(count):
        rel = f"part{index % 7}/file{index:04d}.bin"
        data = f"{index}-{uuid.uuid4().hex}\n".encode() * (index % 13 + 1)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        files[rel] = data
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_folder_of_hundreds_of_files_round_trips(
    server: ServeProcess, account: Account, api: lineage.Api, tmp_path: Path
) -> None:
    files = write_tree(tmp_path / "data", 300)
    project = unique("p")
    with lineage.init(project=project, base_url=server.url, api_key=account.key) as run:
        artifact = lineage.Artifact("many", "dataset", metadata={"n": 300})
        artifact.add_dir(tmp_path / "data", name="d")
        run.log_artifact(artifact, aliases=["best"])
    assert artifact.version == "v0"
    assert artifact.state == "COMMITTED"
    assert artifact.file_count == 300
    assert run.state == "FINISHED"

    found = api.artifact(f"{project}/many:best")
    assert found.metadata == {"n": 300}
    assert set(found.aliases) == {"best", "latest"}
    assert found.logged_by() == run
    target = found.download(tmp_path / "out")
    assert read_tree(target) == {f"d/{k}": v for k, v in files.items()}
    assert len(found.manifest.entries) == 300


def test_logging_equal_content_again_uploads_nothing_and_deduplicates(
    server: ServeProcess, account: Account, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(os.urandom(1000))
    project = unique("p")
    with lineage.init(project=project, base_url=server.url, api_key=account.key) as run:
        first = lineage.Artifact("same", "dataset")
        first.add_file(tmp_path / "a.txt")
        run.log_artifact(first)
        second = lineage.Artifact("same", "dataset")
        second.add_file(tmp_path / "a.txt")
        run.log_artifact(second, aliases=["again"])
    assert second.version == first.version == "v0"
    assert "again" in second.aliases


def test_round_trip_through_an_s3_blob_store(
    serve_env: dict[str, str], account: Account, tmp_path: Path, moto_server: str
) -> None:
    # the service on S3: uploads and downloads go to presigned moto URLs, not /files
    import boto3

    from tests.client.conftest import lasting_dir
    from tests.client.serve import start_serve

    bucket = f"client-store-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    env = {**serve_env, "STORAGE_URL": f"s3://{bucket}/blobs"}
    with lasting_dir("lineage-client-s3-") as data:
        served = start_serve(data, env)
        try:
            files = write_tree(tmp_path / "data", 20)
            (tmp_path / "data" / "large.bin").write_bytes(os.urandom(6 * 1024 * 1024))
            files["large.bin"] = (tmp_path / "data" / "large.bin").read_bytes()
            with lineage.init(project=unique("p"), base_url=served.url, api_key=account.key) as run:
                artifact = lineage.Artifact("on-s3", "dataset")
                artifact.add_dir(tmp_path / "data")
                run.log_artifact(artifact)
            assert artifact.state == "COMMITTED"
            entry = artifact.manifest.entries["large.bin"]
            assert entry.size == 6 * 1024 * 1024
            assert read_tree(artifact.download(tmp_path / "out")) == files
        finally:
            served.stop()
