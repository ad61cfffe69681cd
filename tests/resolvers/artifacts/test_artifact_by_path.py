"""artifact(path): the version and, when loggedBy is selected, its producer in the same
round trip. The producer must read exactly as the run does everywhere else."""

from __future__ import annotations

from typing import Any

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab
from tests.resolvers.lineage.test_round_trips import count_queries

RUN_FIELDS = """id runId name path state config summary createdAt updatedAt
                project { name } sweep { sweepId }"""


async def make_lab(api: Api, make_user: Any) -> Lab:
    user = await make_user("abp")
    lab = await Lab.open(api, user)
    await api.ok(
        """mutation($e: String!, $p: String!) { upsertRun(input: {entity: $e, project: $p,
             runId: "train", name: "job", config: {lr: 0.1, layers: [1, 2]}}) { id } }""",
        {"e": lab.entity, "p": lab.project},
        user.key,
    )
    lab.run("eval").log("train", "model").use("eval", lab.art("model"))
    await lab.flush()
    return lab


async def test_logged_by_reads_as_the_run_itself(api: Api, make_user: Any) -> None:
    lab = await make_lab(api, make_user)
    data = await api.ok(
        f"""query($a: String!, $r: String!) {{
              artifact(path: $a) {{ name loggedBy {{ {RUN_FIELDS} }} }}
              run(path: $r) {{ {RUN_FIELDS} }} }}""",
        {"a": lab.art("model"), "r": lab.run_path("train")},
        lab.key,
    )
    assert data["artifact"]["name"] == "model"
    assert data["artifact"]["loggedBy"] == data["run"]
    assert data["run"]["config"] == {"lr": 0.1, "layers": [1, 2]}


async def test_a_private_artifact_and_its_producer_stay_hidden(api: Api, make_user: Any) -> None:
    lab = await make_lab(api, make_user)
    outsider = await make_user("abp-out")
    query = "query($a: String!) { artifact(path: $a) { name loggedBy { runId } } }"
    for key in (None, outsider.key):
        assert await api.ok(query, {"a": lab.art("model")}, key) == {"artifact": None}
    assert await api.ok(query, {"a": lab.art("model")}, lab.key) == {
        "artifact": {"name": "model", "loggedBy": {"runId": "train"}}
    }


async def test_logged_by_costs_no_round_trip_of_its_own(api: Api, make_user: Any) -> None:
    """1 round trip finds the version with its producer and usedBy's first page (its runs),
    and looks the API key up in the same statement (artifact(path) is the operation's only
    field); each totalCount would be 1 more."""
    lab = await make_lab(api, make_user)
    variables = {"a": lab.art("model")}
    alone, _ = await count_queries(
        api, "query($a: String!) { artifact(path: $a) { id } }", variables, lab.key
    )
    with_producer, data = await count_queries(
        api,
        "query($a: String!) { artifact(path: $a) { id loggedBy { runId } } }",
        variables,
        lab.key,
    )
    one_hop, hop = await count_queries(
        api,
        """query($a: String!) { artifact(path: $a) { id loggedBy { runId name }
             usedBy(first: 50) { edges { node { runId name } } } } }""",
        variables,
        lab.key,
    )
    assert (alone, with_producer, one_hop) == (1, 1, 1)
    assert data["artifact"]["loggedBy"] == {"runId": "train"}
    assert hop["artifact"]["usedBy"]["edges"] == [{"node": {"runId": "eval", "name": None}}]
