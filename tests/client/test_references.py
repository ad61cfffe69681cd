"""S3 references measured with the client's own credentials, and downloaded back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest

import lineage
from lineage import references
from lineage.download import BlobCache, _Download
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account, unique


@pytest.fixture
def bucket(moto_server: str) -> tuple[object, str]:
    s3 = boto3.client("s3", endpoint_url=moto_server)
    name = f"refs-{unique('b').lower().replace('_', '-')}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3, name


def test_the_client_measures_references_before_logging(bucket: tuple[object, str]) -> None:
    s3, name = bucket
    put = s3.put_object(Bucket=name, Key="one/a.txt", Body=b"alpha")  # type: ignore[attr-defined]
    s3.put_object(Bucket=name, Key="one/deeper/b.txt", Body=b"beta")  # type: ignore[attr-defined]
    artifact = lineage.Artifact("refs", "table")

    artifact.add_reference(f"s3://{name}/one/a.txt")
    artifact.add_reference(f"s3://{name}/one/", name="all")
    artifact.add_reference(f"s3://{name}/one/a.txt", name="unchecked", checksum=False)

    entries = artifact.manifest.entries
    assert sorted(entries) == ["a.txt", "all/a.txt", "all/deeper/b.txt", "unchecked"]
    single = entries["a.txt"]
    assert single.digest == hashlib.md5(b"alpha").hexdigest()
    assert single.size == 5
    assert single.extra == {"etag": single.digest, "versionID": put["VersionId"]}
    assert entries["all/deeper/b.txt"].size == 4
    assert entries["unchecked"].digest is None
    with pytest.raises(lineage.BadInput, match="does not exist"):
        artifact.add_reference(f"s3://{name}/missing.txt")
    with pytest.raises(lineage.BadInput, match="matches no objects"):
        artifact.add_reference(f"s3://{name}/empty/")


def test_a_reference_downloads_the_recorded_version_after_an_overwrite(
    server: ServeProcess, account: Account, bucket: tuple[object, str], tmp_path: Path
) -> None:
    s3, name = bucket
    s3.put_object(Bucket=name, Key="t/data.csv", Body=b"original")  # type: ignore[attr-defined]
    with lineage.init(project=unique("p"), base_url=server.url, api_key=account.key) as run:
        table = lineage.Artifact("table", "table")
        table.add_reference(f"s3://{name}/t/data.csv")
        run.log_artifact(table)
    s3.put_object(Bucket=name, Key="t/data.csv", Body=b"replaced!")  # type: ignore[attr-defined]

    target = table.download(tmp_path / "out")

    assert (target / "data.csv").read_bytes() == b"original"


def test_without_a_url_a_reference_is_read_with_own_credentials_or_reported_skipped(
    server: ServeProcess, account: Account, api: lineage.Api, bucket: tuple[object, str],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # A service that may not read the bucket gives no downloadUrl (the operator's
    # allow-list); such an entry is read here with the client's own credentials.
    s3, name = bucket
    put = s3.put_object(Bucket=name, Key="k/v.bin", Body=b"first")  # type: ignore[attr-defined]
    s3.put_object(Bucket=name, Key="k/v.bin", Body=b"second")  # type: ignore[attr-defined]
    with lineage.init(project=unique("p"), base_url=server.url, api_key=account.key) as run:
        logged = lineage.Artifact("noturl", "table")
        logged.add_file(_write(tmp_path / "stored.txt", b"stored"))
        run.log_artifact(logged)
    entry = lineage.ManifestEntry(
        "v.bin", hashlib.md5(b"first").hexdigest(), 5, f"s3://{name}/k/v.bin",
        {"etag": hashlib.md5(b"first").hexdigest(), "versionID": put["VersionId"]},
    )  # fmt: skip
    job = _Download(api, logged, tmp_path / "out", BlobCache(tmp_path / "cache"))

    job.reference(entry)
    assert (tmp_path / "out" / "v.bin").read_bytes() == b"first"  # the recorded version

    # no credentials: nothing written, and the download says what it skipped
    (tmp_path / "out" / "v.bin").unlink()
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(variable)
    monkeypatch.setattr(references, "_clients", {})
    job.reference(entry)
    assert job.skipped == ["v.bin"]
    assert not (tmp_path / "out" / "v.bin").exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
