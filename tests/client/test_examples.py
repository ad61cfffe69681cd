"""The scripts in examples/ run against a real service."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from tests.client.conftest import ROOT
from tests.fixtures.service import Account, unique

EXAMPLES = ROOT / "examples"


def test_the_examples_run(
    account: Account, run_client: Callable[..., Any], tmp_path: Path, moto_server: str
) -> None:
    project = unique("p")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text(project)

    def example(*args: str) -> str:
        done = run_client(
            [sys.executable, str(EXAMPLES / args[0]), *args[1:]], account.key, tmp_path
        )
        assert done.returncode == 0, done.stderr
        return str(done.stdout)

    logged = example(
        "log_dataset.py", "data", "--project", project, "--name", "ds", "--alias", "best"
    )
    assert f"/{project}/ds:v0 (1 files)" in logged
    walked = example("walk_lineage.py", f"{project}/ds:best")
    assert "1 files" in walked
    assert "downstream within 6 hops: 1 nodes, 0 edges" in walked

    s3 = boto3.client("s3", endpoint_url=moto_server)
    bucket = f"ex-{project.lower().replace('_', '-')}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="tables/t.csv", Body=b"a,b\n")
    referenced = example("code_and_references.py", f"s3://{bucket}/tables/", "--project", project)
    assert f"t.csv: s3://{bucket}/tables/t.csv" in referenced
