"""The issue's snippets, exactly as written, run as scripts against ``lineage serve``.

They name the user ``entity``, the project ``demo``, runs ``existing_run_id`` and
``run_id``, the sweep ``sweep_id`` and the bucket ``bucket``: this module arranges those
(the client tests have a database of their own, so the names are free). Lines after a
snippet only print what it found, for the test to check.
"""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

import lineage
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account

SNIPPET_1 = """
import lineage

# 1. log an artifact into an existing run
with lineage.init(project="demo", id="existing_run_id", resume="allow") as run:
    artifact = lineage.Artifact("artifact_name", "dataset")
    artifact.add_file("my_data/file.txt")
    artifact.add_dir("my_data/images", name="images")
    run.log_artifact(artifact, aliases=["best"])
"""

SNIPPET_2_3_4 = """
import lineage

# 2. walk the graph from an artifact
api = lineage.Api()
artifact = api.artifact("demo/artifact_name:latest")
producer_run = artifact.logged_by()
consumer_runs = artifact.used_by()
next_artifacts = consumer_runs[0].logged_artifacts()
previous_artifacts = producer_run.used_artifacts()
graph = artifact.lineage(direction="downstream", depth=6)   # nodes, edges, truncated

# 3. walk the graph from a run
run = api.run("entity/demo/run_id")
produced = run.logged_artifacts()
consumed = run.used_artifacts()
earlier_run = consumed[0].logged_by()

# 4. artifacts of the best run of a sweep
sweep = api.sweep("entity/demo/sweep_id")
best = sweep.best_run("val_acc", goal="maximize")
for artifact in best.logged_artifacts():
    print(artifact.download())           # a local directory with every file
"""

REPORT_2_3_4 = """
import json
print(json.dumps({
    "producer": producer_run.path,
    "consumers": [r.path for r in consumer_runs],
    "next": [a.path for a in next_artifacts],
    "previous": [a.path for a in previous_artifacts],
    "graph_nodes": sorted(n.path for n in graph.nodes),
    "graph_edges": sorted([e.source.path, e.target.path, e.kind] for e in graph.edges),
    "truncated": graph.truncated,
    "produced": [a.path for a in produced],
    "consumed": [a.path for a in consumed],
    "earlier_run": earlier_run.path,
    "best": best.path,
}))
"""

SNIPPET_5_6 = """
import lineage

# 5. save code, from the current run
run = lineage.init(project="demo", save_code=True)   # logs the running script or notebook as a `code` artifact
code_artifact = lineage.Artifact(name="code", type="code")
code_artifact.add_file("./train.py")
lineage.log_artifact(code_artifact)

# 6. reference artifacts: version ids and ETags
table = lineage.Artifact("my_table", "table")
table.add_reference("s3://bucket/tables/", checksum=True)
run.log_artifact(table)
used = run.use_artifact("my_table:latest")           # project defaults to the run's
for entry in used.manifest.entries.values():
    version_id, etag = entry.extra.get("versionID"), entry.extra.get("etag")
run.finish()
"""

REPORT_5_6 = """
import json
print(json.dumps({
    "run": run.path,
    "entries": {p: [e.ref, e.extra.get("versionID"), e.extra.get("etag"), e.size]
                for p, e in used.manifest.entries.items()},
}))
"""


def script(tmp: Path, name: str, *parts: str) -> Path:
    path = tmp / name
    path.write_text("\n".join(textwrap.dedent(p) for p in parts))
    return path


def last_json(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def entity_user(make_account: Callable[..., Awaitable[Account]]) -> Account:
    return await make_account("entity")


def test_the_issue_snippets_run_as_written(
    server: ServeProcess,
    entity_user: Account,
    run_client: Callable[..., Any],
    tmp_path: Path,
    moto_server: str,
) -> None:
    key = entity_user.key
    (tmp_path / "my_data/images").mkdir(parents=True)
    (tmp_path / "my_data/file.txt").write_text("hello\n")
    for index in range(3):
        (tmp_path / f"my_data/images/{index}.png").write_bytes(bytes([index]) * 100)

    # 1
    done = run_client([sys.executable, str(script(tmp_path, "one.py", SNIPPET_1))], key, tmp_path)
    assert done.returncode == 0, done.stderr
    api = lineage.Api(base_url=server.url, api_key=key)
    logged = api.artifact("entity/demo/artifact_name:best")
    assert logged.version == "v0"
    assert sorted(logged.manifest.entries) == [
        "file.txt", "images/0.png", "images/1.png", "images/2.png",
    ]  # fmt: skip
    producer = api.run("entity/demo/existing_run_id")
    assert producer.state == "FINISHED"

    # arrange: run_id uses it and logs a model; a sweep whose best run logs weights
    consumer = lineage.init(project="demo", id="run_id", base_url=server.url, api_key=key)
    consumer.use_artifact("artifact_name:latest")
    model = lineage.Artifact("model", "model")
    with model.new_file("model.txt") as out:
        out.write("weights of run_id\n")
    consumer.log_artifact(model)
    consumer.finish()
    sweep_runs = []
    for index, acc in enumerate([0.5, 0.9, 0.7]):
        sweep_run = lineage.init(
            project="demo", id=f"sweep-run-{index}", base_url=server.url, api_key=key,
            sweep=_sweep(api), config={"lr": index},
        )  # fmt: skip
        sweep_run.summary["val_acc"] = acc
        weights = lineage.Artifact(f"weights-{index}", "model")
        with weights.new_file("w.bin", mode="wb") as out:
            out.write(bytes([index]) * 1000)
        sweep_run.log_artifact(weights)
        sweep_run.finish()
        sweep_runs.append(sweep_run)

    # 2, 3, 4
    done = run_client(
        [sys.executable, str(script(tmp_path, "two.py", SNIPPET_2_3_4, REPORT_2_3_4))],
        key, tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = last_json(done.stdout)
    assert report["producer"] == "entity/demo/existing_run_id"
    assert report["consumers"] == ["entity/demo/run_id"]
    assert report["next"] == ["entity/demo/model:v0"]
    assert report["previous"] == []
    assert report["graph_nodes"] == sorted(
        ["entity/demo/artifact_name:v0", "entity/demo/run_id", "entity/demo/model:v0"]
    )
    assert report["graph_edges"] == sorted([
        ["entity/demo/artifact_name:v0", "entity/demo/run_id", "USED"],
        ["entity/demo/run_id", "entity/demo/model:v0", "LOGGED"],
    ])  # fmt: skip
    assert report["truncated"] is False
    assert report["produced"] == ["entity/demo/model:v0"]
    assert report["consumed"] == ["entity/demo/artifact_name:v0"]
    assert report["earlier_run"] == "entity/demo/existing_run_id"
    assert report["best"] == "entity/demo/sweep-run-1"
    downloaded = Path(tmp_path, done.stdout.strip().splitlines()[0])
    assert (downloaded / "w.bin").read_bytes() == bytes([1]) * 1000

    # 5, 6: a versioned bucket "bucket" with two tables
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="bucket")
    s3.put_bucket_versioning(Bucket="bucket", VersioningConfiguration={"Status": "Enabled"})
    tables = {"tables/a.csv": b"x,y\n1,2\n", "tables/sub/b.csv": b"x\n3\n"}
    versions = {
        k: s3.put_object(Bucket="bucket", Key=k, Body=v)["VersionId"] for k, v in tables.items()
    }
    (tmp_path / "train.py").write_text("print('training')\n")
    five = script(tmp_path, "snippet_five.py", SNIPPET_5_6, REPORT_5_6)
    done = run_client([sys.executable, str(five)], key, tmp_path)
    assert done.returncode == 0, done.stderr
    report = last_json(done.stdout)
    assert report["entries"] == {
        "a.csv": ["s3://bucket/tables/a.csv", versions["tables/a.csv"],
                  hashlib.md5(tables["tables/a.csv"]).hexdigest(), len(tables["tables/a.csv"])],
        "sub/b.csv": ["s3://bucket/tables/sub/b.csv", versions["tables/sub/b.csv"],
                      hashlib.md5(tables["tables/sub/b.csv"]).hexdigest(), len(tables["tables/sub/b.csv"])],
    }  # fmt: skip
    run = api.run(report["run"])
    assert run.state == "FINISHED"
    logged_names = sorted(a.name for a in run.logged_artifacts())
    assert logged_names == ["code", "my_table", "source-snippet_five"]
    source = api.artifact("demo/source-snippet_five:latest")
    assert source.type == "code"
    assert list(source.manifest.entries) == ["snippet_five.py"]
    assert [a.name for a in run.used_artifacts()] == ["my_table"]

    # examples/best_run_artifacts.py on the same sweep
    example = Path(__file__).resolve().parents[2] / "examples" / "best_run_artifacts.py"
    done = run_client(
        [sys.executable, str(example), "entity/demo/sweep_id", "val_acc", "--root", "best"],
        key, tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "best run: entity/demo/sweep-run-1 (val_acc = 0.9)" in done.stdout
    assert (tmp_path / "best" / "weights-1-v0" / "w.bin").read_bytes() == bytes([1]) * 1000


def _sweep(api: lineage.Api) -> str:
    """The sweep ``sweep_id`` in entity/demo (created once)."""
    created = api.graphql(
        """mutation { createSweep(input: {project: "demo", sweepId: "sweep_id"}) { sweepId } }"""
    ) if not _sweep_exists(api) else None  # fmt: skip
    assert created is None or created["createSweep"]["sweepId"] == "sweep_id"
    return "sweep_id"


def _sweep_exists(api: lineage.Api) -> bool:
    try:
        api.sweep("entity/demo/sweep_id")
    except lineage.NotFound:
        return False
    return True
