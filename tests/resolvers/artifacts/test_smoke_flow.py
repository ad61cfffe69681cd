from typing import Any

from tests.fixtures.artifacts import COMMIT, get, log_artifact, manifest_digest, sha, upload_all
from tests.fixtures.service import Api


async def test_log_upload_commit_download(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    await api.ok('mutation { upsertRun(input: {project: "p", runId: "r1"}) { id } }', key=alice.key)
    run = f"{alice.name}/p/r1"
    files = {"a.txt": b"hello", "dir/b.bin": b"\x00\x01binary"}
    payload = await log_artifact(api, alice.key, run, "ds", files)
    assert payload["artifact"]["state"] == "PENDING"
    assert sorted(u["path"] for u in payload["uploads"]) == ["a.txt", "dir/b.bin"]
    await upload_all(api, payload, files)
    art = (await api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=alice.key))["commitArtifact"]
    assert art["state"] == "COMMITTED"
    assert art["version"] == "v0"
    assert art["aliases"] == ["latest"]
    assert art["digest"] == manifest_digest({p: sha(b) for p, b in files.items()})
    data = await api.ok(
        f'{{ artifact(path: "{alice.name}/p/ds:latest") {{ manifest {{ entries {{ edges {{ node {{ path downloadUrl }} }} }} }} }} }}',
        key=alice.key,
    )
    for edge in data["artifact"]["manifest"]["entries"]["edges"]:
        response = await get(edge["node"]["downloadUrl"], api)
        assert response.status_code == 200
        assert response.content == files[edge["node"]["path"]]
