"""The seed FAQ's workflows, replayed end to end through the API with real file bytes.

Workflows that move bytes run on both blob stores (``store_api``: the folder store and S3)
with contents no other test uploads (the blob table is shared by every app on the test
database, so a content another store holds would skip its upload here)."""

from __future__ import annotations

import hashlib
from typing import Any

from server.settings import Settings
from tests.fixtures import artifacts as fx
from tests.fixtures.artifacts import StoreApi, api_reading, content, get, log_and_commit
from tests.fixtures.service import Api, unique

UPSERT = """mutation($i: UpsertRunInput!) { upsertRun(input: $i) { id runId path config } }"""
USE = """mutation($run: String!, $a: String!) { useArtifact(input: {run: $run, artifact: $a}) { id } }"""
UPDATE = """mutation($i: UpdateRunInput!) { updateRun(input: $i) { id } }"""
ENTRIES = """manifest { entries { totalCount edges { node { path digest size ref extra downloadUrl } } } }"""


async def test_log_into_an_existing_run_after_resuming_it(
    store_api: StoreApi, make_user: Any
) -> None:
    api = store_api
    user = await make_user("s1")
    project = unique("p")
    first = await api.ok(
        UPSERT,
        {"i": {"project": project, "runId": "existing_run_id", "config": {"lr": 0.1}}},
        user.key,
    )
    run = first["upsertRun"]["path"]
    await log_and_commit(api, user.key, run, "before", {"a.txt": content("before")})

    # init(id="existing_run_id", resume="allow") then log_artifact(...)
    resumed = await api.ok(
        UPSERT, {"i": {"project": project, "runId": "existing_run_id", "resume": "ALLOW"}}, user.key
    )
    assert resumed["upsertRun"]["id"] == first["upsertRun"]["id"]
    assert resumed["upsertRun"]["config"] == {"lr": 0.1}
    files = {"weights.bin": content("resumed", 4096)}
    payload = await fx.log_artifact(api, user.key, run, "after", files, type="model")
    assert payload["artifact"]["state"] == "PENDING"
    query = """query($r: String!) { run(path: $r) { loggedArtifacts { totalCount edges { node { name state } } }
        lineage(direction: DOWNSTREAM) { nodes { __typename ... on Artifact { name } } } } }"""
    # a PENDING version is not in lineage yet
    pending = (await api.ok(query, {"r": run}, user.key))["run"]
    assert [e["node"]["name"] for e in pending["loggedArtifacts"]["edges"]] == ["before"]
    assert [n.get("name") for n in pending["lineage"]["nodes"]] == [None, "before"]
    await fx.upload_all(api, payload, files)
    await api.ok(fx.COMMIT, {"id": payload["artifact"]["id"]}, user.key)

    done = (await api.ok(query, {"r": run}, user.key))["run"]
    assert [e["node"]["name"] for e in done["loggedArtifacts"]["edges"]] == ["before", "after"]
    assert done["loggedArtifacts"]["totalCount"] == 2
    assert [n.get("name") for n in done["lineage"]["nodes"]] == [None, "before", "after"]
    owner = await api.ok(
        "query($a: String!) { artifact(path: $a) { state loggedBy { id runId } } }",
        {"a": f"{project}/after:latest"},
        user.key,
    )
    logged_by = owner["artifact"]["loggedBy"]
    assert logged_by == {"id": first["upsertRun"]["id"], "runId": "existing_run_id"}


async def test_walk_from_an_artifact_to_its_producer_and_consumers_and_back(
    api: Api, make_user: Any
) -> None:
    user = await make_user("s2")
    project = unique("p")
    for run_id in ("prep", "train", "eval"):
        await api.ok(UPSERT, {"i": {"project": project, "runId": run_id}}, user.key)
    path = f"{user.name}/{project}"
    await log_and_commit(api, user.key, f"{path}/prep", "ds", {"rows.csv": b"x,y\n1,2\n"})
    await log_and_commit(api, user.key, f"{path}/prep", "vocab", {"vocab.txt": b"a\nb\n"})
    for art in ("ds:latest", "vocab:v0"):
        await api.ok(USE, {"run": f"{path}/train", "a": f"{project}/{art}"}, user.key)
    model = await log_and_commit(
        api, user.key, f"{path}/train", "model", {"m.pt": b"weights"}, type="model"
    )
    await api.ok(USE, {"run": f"{path}/eval", "a": f"{project}/model:latest"}, user.key)

    data = await api.ok(
        """query($a: String!) { artifact(path: $a) { id
             loggedBy { runId usedArtifacts { edges { node { name usedBy { edges { node { runId
               loggedArtifacts { edges { node { id name } } } } } } } } } }
             usedBy { edges { node { runId usedArtifacts { edges { node { id name loggedBy { runId } } } } } } } } }""",
        {"a": f"{project}/model:v0"},
        user.key,
    )
    art = data["artifact"]
    # upstream: model -> loggedBy (train) -> usedArtifacts (ds, vocab) -> usedBy (train) -> back to model
    assert art["loggedBy"]["runId"] == "train"
    inputs = [e["node"] for e in art["loggedBy"]["usedArtifacts"]["edges"]]
    assert [i["name"] for i in inputs] == ["ds", "vocab"]
    for inp in inputs:
        (consumer,) = [e["node"] for e in inp["usedBy"]["edges"]]
        assert consumer["runId"] == "train"
        assert [e["node"]["id"] for e in consumer["loggedArtifacts"]["edges"]] == [model["id"]]
    # downstream: model -> usedBy (eval) -> usedArtifacts -> back to model and its producer
    (evaluation,) = [e["node"] for e in art["usedBy"]["edges"]]
    assert evaluation["runId"] == "eval"
    assert evaluation["usedArtifacts"]["edges"] == [
        {"node": {"id": art["id"], "name": "model", "loggedBy": {"runId": "train"}}}
    ]


async def test_sweep_runs_share_a_model_collection_and_the_best_runs_files_download(
    store_api: StoreApi, make_user: Any
) -> None:
    api = store_api
    user = await make_user("s3")
    project = unique("p")
    sweep = await api.ok(
        "mutation($i: CreateSweepInput!) { createSweep(input: $i) { sweepId path } }",
        {
            "i": {
                "project": project,
                "config": {"method": "grid", "parameters": {"lr": [0.1, 0.01, 0.001]}},
            }
        },
        user.key,
    )
    sweep_id = sweep["createSweep"]["sweepId"]
    accuracies = {"run-a": 0.71, "run-b": 0.93, "run-c": 0.85}
    weights: dict[str, bytes] = {}
    configs: dict[str, bytes] = {}
    for i, (run_id, acc) in enumerate(accuracies.items()):
        run = (await api.ok(UPSERT, {"i": {"project": project, "runId": run_id, "sweep": sweep_id,
                                           "config": {"lr": 10.0 ** -(i + 1)}}}, user.key))["upsertRun"]["path"]  # fmt: skip
        weights[run_id] = content(run_id, 8192) + bytes(range(256))
        configs[run_id] = content(f'{{"run": "{run_id}"}}')
        files = {"model.pt": weights[run_id], "config.json": configs[run_id]}
        art = await log_and_commit(api, user.key, run, "sweep-model", files, type="model")
        assert art["version"] == f"v{i}"
        await api.ok(
            UPDATE,
            {"i": {"run": run, "summary": {"val": {"acc": acc}}, "state": "FINISHED"}},
            user.key,
        )

    data = await api.ok(
        f"""query($s: String!, $c: String!) {{
             sweep(path: $s) {{ runs {{ totalCount }} bestRun(metric: "val.acc") {{ runId
               loggedArtifacts(type: "model") {{ totalCount edges {{ node {{ name version {ENTRIES} }} }} }} }} }}
             artifact(path: $c) {{ collection {{ versions {{ edges {{ node {{ version loggedBy {{ runId }} }} }} }} }} }} }}""",
        {"s": sweep["createSweep"]["path"], "c": f"{project}/sweep-model:latest"},
        user.key,
    )
    best = data["sweep"]["bestRun"]
    assert data["sweep"]["runs"]["totalCount"] == 3
    assert best["runId"] == "run-b"
    versions = [e["node"] for e in data["artifact"]["collection"]["versions"]["edges"]]
    assert versions == [
        {"version": f"v{i}", "loggedBy": {"runId": r}}
        for i, r in reversed(list(enumerate(accuracies)))
    ]
    (logged,) = [e["node"] for e in best["loggedArtifacts"]["edges"]]
    assert (logged["name"], logged["version"]) == ("sweep-model", "v1")
    expected = {"model.pt": weights["run-b"], "config.json": configs["run-b"]}
    entries = [e["node"] for e in logged["manifest"]["entries"]["edges"]]
    assert sorted(e["path"] for e in entries) == sorted(expected)
    for entry in entries:
        response = await get(entry["downloadUrl"], api)
        assert response.status_code == 200
        assert response.content == expected[entry["path"]]
        assert entry["digest"] == hashlib.sha256(expected[entry["path"]]).hexdigest()


async def test_code_artifact(store_api: StoreApi, make_user: Any) -> None:
    api = store_api
    user = await make_user("s4")
    project = unique("p")
    for run_id in ("train", "replay"):
        await api.ok(UPSERT, {"i": {"project": project, "runId": run_id}}, user.key)
    source = {
        "train.py": b"import torch\nprint('train')\n# " + content("train.py"),
        "requirements.txt": b"torch==2.3\n# " + content("requirements"),
    }
    await log_and_commit(
        api, user.key, f"{user.name}/{project}/train", "source-train", source, type="code"
    )
    await log_and_commit(api, user.key, f"{user.name}/{project}/train", "ds", {"d": b"data"})
    await api.ok(
        USE,
        {"run": f"{user.name}/{project}/replay", "a": f"{project}/source-train:latest"},
        user.key,
    )
    data = await api.ok(
        f"""query($r: String!, $u: String!) {{
             r: run(path: $r) {{ loggedArtifacts(type: "code") {{ totalCount edges {{ node {{ name type {ENTRIES} }} }} }} }}
             u: run(path: $u) {{ usedArtifacts(type: "code") {{ edges {{ node {{ name type loggedBy {{ runId }} }} }} }} }} }}""",
        {"r": f"{user.name}/{project}/train", "u": f"{user.name}/{project}/replay"},
        user.key,
    )
    (code,) = [e["node"] for e in data["r"]["loggedArtifacts"]["edges"]]
    assert data["r"]["loggedArtifacts"]["totalCount"] == 1
    assert (code["name"], code["type"]) == ("source-train", "code")
    for entry in (e["node"] for e in code["manifest"]["entries"]["edges"]):
        assert (await get(entry["downloadUrl"], api)).content == source[entry["path"]]
    assert data["u"]["usedArtifacts"]["edges"] == [
        {"node": {"name": "source-train", "type": "code", "loggedBy": {"runId": "train"}}}
    ]


async def test_one_collection_per_architecture_with_metadata_and_latest(
    api: Api, make_user: Any
) -> None:
    user = await make_user("s5")
    project = unique("p")
    await api.ok(UPSERT, {"i": {"project": project, "runId": "train"}}, user.key)
    run = f"{user.name}/{project}/train"
    archs = {"resnet": 50, "vit": 12, "mlp": 3}
    for arch, layers in archs.items():
        await log_and_commit(api, user.key, run, f"model-{arch}", {"w": f"{arch}-v0".encode()}, type="model",
                             metadata={"arch": arch, "layers": layers})  # fmt: skip
    # a second vit version: latest moves to it
    await log_and_commit(api, user.key, run, "model-vit", {"w": b"vit-v1"}, type="model",
                         metadata={"arch": "vit", "layers": 24})  # fmt: skip
    data = await api.ok(
        """query($e: String!, $p: String!) { project(entity: $e, name: $p) {
             artifactCollections(type: "model") { totalCount edges { node { name type
               version(alias: "latest") { version aliases metadata loggedBy { runId } } } } } } }""",
        {"e": user.name, "p": project},
        user.key,
    )
    collections = {
        e["node"]["name"]: e["node"] for e in data["project"]["artifactCollections"]["edges"]
    }
    assert set(collections) == {f"model-{a}" for a in archs}
    for arch, layers in archs.items():
        latest = collections[f"model-{arch}"]["version"]
        assert latest["metadata"] == {"arch": arch, "layers": 24 if arch == "vit" else layers}
        assert latest["version"] == ("v1" if arch == "vit" else "v0")
        assert "latest" in latest["aliases"]
        assert latest["loggedBy"] == {"runId": "train"}
    old = await api.ok(
        "query($a: String!) { artifact(path: $a) { metadata aliases } }",
        {"a": f"{project}/model-vit:v0"},
        user.key,
    )
    assert old["artifact"] == {"metadata": {"arch": "vit", "layers": 12}, "aliases": []}
    outputs = await api.ok(
        'query($r: String!) { run(path: $r) { loggedArtifacts(type: "model") { totalCount } } }',
        {"r": run},
        user.key,
    )
    assert outputs["run"]["loggedArtifacts"]["totalCount"] == 4


async def test_reference_artifact_records_version_id_and_etag(
    settings: Settings, make_user: Any, s3_client: Any, versioned_bucket: str
) -> None:
    async with api_reading(settings, versioned_bucket) as api:
        await _reference_artifact_records_version_id_and_etag(
            api, make_user, s3_client, versioned_bucket
        )


async def _reference_artifact_records_version_id_and_etag(
    api: Api, make_user: Any, s3_client: Any, versioned_bucket: str
) -> None:
    user = await make_user("s6")
    project = unique("p")
    await api.ok(UPSERT, {"i": {"project": project, "runId": "ingest"}}, user.key)
    bucket = versioned_bucket
    await s3_client.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"old a")
    put_a = await s3_client.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"a,b\n1,2\n")
    put_b = await s3_client.put_object(Bucket=bucket, Key="raw/sub/b.csv", Body=b"b\n3\n")
    entries = [
        {"path": "data", "ref": f"s3://{bucket}/raw/"},
        {"path": "one.csv", "ref": f"s3://{bucket}/raw/a.csv"},
    ]
    art = await log_and_commit(
        api, user.key, f"{user.name}/{project}/ingest", "raw-ref", {}, entries=entries
    )
    assert art["state"] == "COMMITTED"
    assert art["fileCount"] == 3
    # the bucket changes afterwards: the recorded versions stay downloadable
    await s3_client.put_object(Bucket=bucket, Key="raw/a.csv", Body=b"newer a")
    data = await api.ok(
        f"query($a: String!) {{ artifact(path: $a) {{ loggedBy {{ runId }} {ENTRIES} }} }}",
        {"a": f"{project}/raw-ref:latest"},
        user.key,
    )
    assert data["artifact"]["loggedBy"] == {"runId": "ingest"}
    entries_by_path = {
        e["node"]["path"]: e["node"] for e in data["artifact"]["manifest"]["entries"]["edges"]
    }
    expected = {
        "data/a.csv": (put_a, f"s3://{bucket}/raw/a.csv", b"a,b\n1,2\n"),
        "data/sub/b.csv": (put_b, f"s3://{bucket}/raw/sub/b.csv", b"b\n3\n"),
        "one.csv": (put_a, f"s3://{bucket}/raw/a.csv", b"a,b\n1,2\n"),
    }
    assert set(entries_by_path) == set(expected)
    for path, (put, uri, body) in expected.items():
        entry = entries_by_path[path]
        etag = put["ETag"].strip('"')
        assert entry["ref"] == uri
        assert entry["size"] == len(body)
        assert entry["extra"] == {"versionID": put["VersionId"], "etag": etag}
        assert entry["digest"] == etag
        response = await get(entry["downloadUrl"], api)
        assert response.status_code == 200
        assert response.content == body
