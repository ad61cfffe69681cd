"""What a connection's selection asks for (JSON documents, totalCount) is read once per
document and kept with it: every field of the document still gets its own answer, the
first request's and every later one's."""

from __future__ import annotations

from typing import Any

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

# the same connection twice under aliases (one reads the runs' config, one counts), and
# under a fragment; the keys are per field node, so none may borrow another's answer
QUERY = """query($a: String!) { artifact(path: $a) {
  plain: usedBy(first: 5) { edges { node { runId } } }
  documents: usedBy(first: 5) { totalCount edges { node { runId config } } }
  loggedBy { loggedArtifacts(first: 5) { ...Outs } }
  again: loggedBy { loggedArtifacts(first: 5) { edges { node { name } } } } } }
fragment Outs on ArtifactConnection { totalCount edges { node { name metadata } } }"""


async def test_each_field_keeps_its_own_answer_across_requests(api: Api, make_user: Any) -> None:
    user = await make_user("sel")
    lab = await Lab.open(api, user)
    await api.ok(
        """mutation($e: String!, $p: String!) { upsertRun(input: {entity: $e, project: $p,
             runId: "eval", config: {lr: 0.5}}) { id } }""",
        {"e": lab.entity, "p": lab.project},
        user.key,
    )
    lab.run("train").log("train", "model").use("eval", lab.art("model"))
    await lab.flush()
    expected = {
        "plain": {"edges": [{"node": {"runId": "eval"}}]},
        "documents": {
            "totalCount": 1,
            "edges": [{"node": {"runId": "eval", "config": {"lr": 0.5}}}],
        },
        "loggedBy": {
            "loggedArtifacts": {
                "totalCount": 1,
                "edges": [{"node": {"name": "model", "metadata": {}}}],
            }
        },
        "again": {"loggedArtifacts": {"edges": [{"node": {"name": "model"}}]}},
    }
    for _ in range(3):  # the first request reads the selections, later ones reuse them
        assert (await api.ok(QUERY, {"a": lab.art("model")}, user.key))["artifact"] == expected
