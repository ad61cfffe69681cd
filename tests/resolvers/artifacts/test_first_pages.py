"""artifact(path) reads the first pages of its usedBy (and of those consumers'
loggedArtifacts) in its own statement when the selection asks for them. What it answers
must be exactly what the same selection answers when every page comes from its own
loader: here the artifact reached through node(id), which never reads ahead."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab
from tests.resolvers.lineage.test_round_trips import count_queries


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> dict[str, Any]:
    """A team's PUBLIC project holds ds (logged by prep) and its consumers c1..c4, each
    logging a few outputs of two types; a PRIVATE run h1 used ds between c1 and c2 and
    logged outputs too."""
    admin, member, outsider = await make_user("fp"), await make_user("fpm"), await make_user("fpo")
    team = await api.team_with(admin, member, prefix="fpteam")
    public = await Lab.open(api, admin, "PUBLIC", entity=team)
    private = await Lab.open(api, admin, "PRIVATE", entity=team)
    public.run("prep", "c1", "c2", "c3", "c4").log("prep", "ds")
    await public.flush()
    public.use("c1", public.art("ds"))
    await public.flush()
    private.run("h1").use("h1", public.art("ds")).log("h1", "h_out", type_="model")
    await private.flush()
    for run in ("c2", "c3", "c4"):
        public.use(run, public.art("ds"))
    for run, outputs in [("c1", 3), ("c2", 2), ("c4", 1)]:
        for i in range(outputs):
            public.log(run, f"{run}_out{i}", type_="model" if i % 2 == 0 else "dataset")
    await public.flush()
    await api.ok(
        """mutation($p: String!) { updateRun(input: {run: $p, config: {lr: 0.5}}) { id } }""",
        {"p": public.run_path("c1")},
        admin.key,
    )
    ids = await public.ids(public.art("ds"))
    hidden = await private.ids(private.art("h_out"))
    return {
        "ds": public.art("ds"),
        "ds_id": ids[public.art("ds")],
        "hidden": private.art("h_out"),
        "hidden_id": hidden[private.art("h_out")],
        "keys": {"anonymous": None, "outsider": outsider.key, "member": member.key},
    }


SELECTIONS = {
    "q1": "id loggedBy { id runId name } usedBy(first: 50) { edges { node { id runId name } } }",
    "q1_outputs": """id loggedBy { id runId name } usedBy(first: 50) { edges { node {
        id runId name loggedArtifacts(first: 10) { edges { node { id name version } } } } } }""",
    "pages_and_counts": """usedBy(first: 2) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { runId config loggedArtifacts(first: 1, type: "model") {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { name version metadata } } } } } }""",
    "aliases": """a: usedBy(first: 1) { edges { node { runId } } }
        b: usedBy(first: 3) { edges { node { runId loggedArtifacts { edges { node { name } } }
                                              o: loggedArtifacts(first: 1) { edges { node { name } } } } } }
        c: usedBy { pageInfo { hasNextPage } edges { node { runId } } }
        usedBy(first: 0) { pageInfo { hasNextPage } edges { node { runId } } }""",
    "fragments": """...F""",
    "skipped": """usedBy(first: 2) @skip(if: true) { edges { node { runId } } }
        u: usedBy(first: 2) @include(if: true) { edges { node { name } } }""",
    "typed_outputs": """usedBy { edges { node { runId
        m: loggedArtifacts(type: "model", first: 2) { totalCount edges { node { name } } }
        d: loggedArtifacts(type: "dataset") { edges { node { name } } } } } }""",
}
FRAGMENTS = """fragment F on Artifact { name usedBy(first: $n) { edges { node { ...R } } } }
fragment R on Run { runId ... on Run { outs: loggedArtifacts(first: $m) { edges { node { name } } } } }"""


def _documents(selection: str) -> tuple[str, str]:
    """The same selection on artifact(path) and on node(id) (which reads no page ahead)."""
    fragments = "...F" in selection
    extra = ", $n: Int, $m: Int" if fragments else ""
    tail = FRAGMENTS if fragments else ""
    by_path = f"query($p: String!{extra}) {{ x: artifact(path: $p) {{ {selection} }} }} {tail}"
    by_id = f"query($i: ID!{extra}) {{ x: node(id: $i) {{ ... on Artifact {{ {selection} }} }} }} {tail}"
    return by_path, by_id


@pytest.mark.parametrize("viewer", ["anonymous", "outsider", "member"])
@pytest.mark.parametrize("shape", list(SELECTIONS))
async def test_read_ahead_pages_answer_as_the_loaders_do(
    api: Api, world: dict[str, Any], shape: str, viewer: str
) -> None:
    by_path, by_id = _documents(SELECTIONS[shape])
    key = world["keys"][viewer]
    variables = {"n": 2, "m": 1} if shape == "fragments" else {}
    ahead = await api.ok(by_path, {"p": world["ds"], **variables}, key)
    loaded = await api.ok(by_id, {"i": world["ds_id"], **variables}, key)
    assert ahead == loaded
    assert ahead["x"] is not None


async def test_private_consumers_stay_out_and_members_see_them(
    api: Api, world: dict[str, Any]
) -> None:
    by_path, _ = _documents(SELECTIONS["q1_outputs"])
    runs = {}
    for viewer in ("outsider", "member"):
        data = await api.ok(by_path, {"p": world["ds"]}, world["keys"][viewer])
        edges = data["x"]["usedBy"]["edges"]
        runs[viewer] = [e["node"]["runId"] for e in edges]
        outputs = {e["node"]["runId"]: [o["node"]["name"] for o in e["node"]["loggedArtifacts"]["edges"]]
                   for e in edges}  # fmt: skip
        assert outputs["c1"] == ["c1_out0", "c1_out1", "c1_out2"]
        assert outputs["c3"] == []
        assert outputs.get("h1", ["h_out"]) == ["h_out"]
    assert runs == {"outsider": ["c1", "c2", "c3", "c4"], "member": ["c1", "h1", "c2", "c3", "c4"]}
    for viewer in ("anonymous", "outsider"):
        key = world["keys"][viewer]
        assert await api.ok(by_path, {"p": world["hidden"]}, key) == {"x": None}


async def test_a_later_page_reads_on_from_the_first(api: Api, world: dict[str, Any]) -> None:
    key = world["keys"]["member"]
    query = """query($p: String!, $a: String) { x: artifact(path: $p) {
        usedBy(first: 2, after: $a) { pageInfo { hasNextPage endCursor } edges { node { runId } } } } }"""
    seen, after = [], None
    for _ in range(4):
        page = (await api.ok(query, {"p": world["ds"], "a": after}, key))["x"]["usedBy"]
        seen += [e["node"]["runId"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["c1", "h1", "c2", "c3", "c4"]


async def test_q1_with_outputs_is_one_statement_with_authentication(
    api: Api, world: dict[str, Any]
) -> None:
    key = world["keys"]["member"]
    for shape in ("q1", "q1_outputs"):
        by_path, by_id = _documents(SELECTIONS[shape])
        ahead, _ = await count_queries(api, by_path, {"p": world["ds"]}, key)
        loaded, _ = await count_queries(api, by_id, {"i": world["ds_id"]}, key)
        # artifact(path): one statement, the API key's lookup included; node(id): the key,
        # the version, its producer, usedBy's page (and the outputs' pages)
        assert (ahead, loaded) == (1, 4 if shape == "q1" else 5)


async def test_a_document_whose_pages_come_from_variables_reads_each_requests_ahead(
    api: Api, world: dict[str, Any]
) -> None:
    """What artifact(path) reads ahead is kept with a document only when its selection
    holds no variables: here each request's page sizes are read ahead (one statement, the
    key's lookup in it), whatever the requests before asked for."""
    by_path, by_id = _documents(SELECTIONS["fragments"])
    key = world["keys"]["member"]
    for n, m in ((2, 1), (3, 2), (1, 3), (2, 1)):
        variables = {"n": n, "m": m}
        trips, ahead = await count_queries(api, by_path, {"p": world["ds"], **variables}, key)
        loaded = await api.ok(by_id, {"i": world["ds_id"], **variables}, key)
        assert ahead == loaded
        assert len(ahead["x"]["usedBy"]["edges"]) == n
        assert trips == 1, (n, m)
