from typing import Any

from tests.fixtures.artifacts import log_and_commit
from tests.fixtures.service import Api

UPSERT = "mutation($p: String!, $r: String!) { upsertRun(input: {project: $p, runId: $r}) { id } }"
USE = (
    "mutation($run: String!, $a: String!) { useArtifact(input: {run: $run, artifact: $a}) { id } }"
)


async def test_chain_one_hop_and_lineage(api: Api, make_user: Any) -> None:
    u = await make_user("lin")
    for r in ("prep", "train", "eval"):
        await api.ok(UPSERT, {"p": "p", "r": r}, key=u.key)
    ds = await log_and_commit(api, u.key, f"{u.name}/p/prep", "ds", {"a": b"data"})
    await api.ok(USE, {"run": f"{u.name}/p/train", "a": "p/ds:latest"}, key=u.key)
    model = await log_and_commit(
        api, u.key, f"{u.name}/p/train", "model", {"m": b"weights"}, type="model"
    )
    await api.ok(USE, {"run": f"{u.name}/p/eval", "a": "p/model:v0"}, key=u.key)

    data = await api.ok(
        """query($p: String!) { artifact(path: $p) {
             loggedBy { runId usedArtifacts { totalCount edges { node { name } } } }
             usedBy { totalCount edges { node { runId loggedArtifacts { edges { node { name } } } } } }
             lineage(direction: DOWNSTREAM, depth: 4) { truncated nodes { __typename ... on Run { runId } ... on Artifact { name } } edges { source target kind } }
        } }""",
        {"p": f"{u.name}/p/ds:v0"},
        key=u.key,
    )
    art = data["artifact"]
    assert art["loggedBy"]["runId"] == "prep"
    assert art["usedBy"]["totalCount"] == 1
    assert art["usedBy"]["edges"][0]["node"]["runId"] == "train"
    assert (
        art["usedBy"]["edges"][0]["node"]["loggedArtifacts"]["edges"][0]["node"]["name"] == "model"
    )
    names = [n.get("runId") or n.get("name") for n in art["lineage"]["nodes"]]
    assert names == ["ds", "train", "model", "eval"]
    assert len(art["lineage"]["edges"]) == 3
    assert art["lineage"]["truncated"] is False
    assert {e["kind"] for e in art["lineage"]["edges"]} == {"USED", "LOGGED"}
    assert ds["id"] in {e["source"] for e in art["lineage"]["edges"]}
    assert model["id"] in {e["target"] for e in art["lineage"]["edges"]}
