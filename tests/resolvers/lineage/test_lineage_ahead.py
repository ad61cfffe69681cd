"""artifact(path) reads a lineage field right under it ahead: the API key, the version,
the walk and (for a walk of up to sql.graph.ROWS_WITH_WALK nodes) its nodes' rows in one
statement. What it answers must be exactly what the same selection answers when the
lineage comes from its loader: here the artifact reached through node(id), which never
reads ahead, and graphql-core's own execution (LINEAGE_FAST_EXECUTION=0)."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.schema import lineage_schema
from server.context import Context
from server.db.database import Database
from server.domain.accounts import authenticate
from server.domain.sql.graph import ROWS_WITH_WALK
from server.settings import Settings
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab, labels
from tests.resolvers.lineage.test_round_trips import sql_queries

GRAPH = """truncated nodes { __typename ... on Run { id runId } ... on Artifact { id name version } }
           edges { source target kind }"""
EVERY_FIELD = """truncated edges { kind source target } nodes { __typename
    ... on Run { id runId runName: name path runState: state config summary createdAt updatedAt }
    ... on Artifact { id name version versionIndex path type digest description metadata
                      state size fileCount createdAt ttlDurationSeconds expiresAt } }"""

# selections on the artifact read ahead in its statement (variables: $d direction, $n
# depth, $l limit, when the document declares them)
AHEAD = {
    "literals": f"lineage(direction: DOWNSTREAM, depth: 20, limit: 10000) {{ {GRAPH} }}",
    "variables": f"lineage(direction: $d, depth: $n, limit: $l) {{ {GRAPH} }}",
    "upstream": f"lineage(direction: UPSTREAM, depth: 20) {{ {GRAPH} }}",
    "defaults": f"lineage(direction: DOWNSTREAM) {{ {GRAPH} }}",
    "truncated": f"lineage(direction: DOWNSTREAM, depth: 20, limit: 3) {{ {GRAPH} }}",
    "depth 0": f"lineage(direction: DOWNSTREAM, depth: 0) {{ {GRAPH} }}",
    "every field": f"lineage(direction: DOWNSTREAM, depth: 20) {{ {EVERY_FIELD} }}",
    "no nodes": "lineage(direction: DOWNSTREAM, depth: 20) { truncated edges { kind } }",
    "alias and fields": f"""id name loggedBy {{ runId }}
        l: lineage(direction: DOWNSTREAM, depth: 20) {{ {GRAPH} }}""",
    "fragment": "...L",
}
# selections left to the lineage loader, as before
FALLBACK = {
    "both": f"lineage(depth: 20) {{ {GRAPH} }}",
    "two walks": f"""up: lineage(direction: UPSTREAM, depth: 20) {{ {GRAPH} }}
        down: lineage(direction: DOWNSTREAM, depth: 20) {{ {GRAPH} }}""",
    "with usedBy": f"""usedBy(first: 5) {{ edges {{ node {{ runId }} }} }}
        lineage(direction: DOWNSTREAM, depth: 20) {{ {GRAPH} }}""",
    "skipped": f"lineage(direction: DOWNSTREAM, depth: 20) @skip(if: true) {{ {GRAPH} }}",
}
# bad arguments: the lineage field's own errors, exactly as before
BAD = {
    "depth": f"lineage(direction: DOWNSTREAM, depth: 101) {{ {GRAPH} }}",
    "limit": f"lineage(direction: UPSTREAM, limit: 0) {{ {GRAPH} }}",
    "variables": f"lineage(direction: $d, depth: $n, limit: $l) {{ {GRAPH} }}",
}
FRAGMENT = f"fragment L on Artifact {{ name ... on Artifact {{ lineage(direction: DOWNSTREAM, depth: 20) {{ {GRAPH} }} }} }}"
VARIABLES = {"d": "DOWNSTREAM", "n": 20, "l": 10000}


def documents(selection: str) -> tuple[str, str]:
    """The same selection on artifact(path) and on node(id) (which reads nothing ahead)."""
    declared = ", $d: LineageDirection!, $n: Int!, $l: Int!" if "$d" in selection else ""
    tail = FRAGMENT if "...L" in selection else ""
    by_path = f"query($p: String!{declared}) {{ x: artifact(path: $p) {{ {selection} }} }} {tail}"
    by_id = f"query($i: ID!{declared}) {{ x: node(id: $i) {{ ... on Artifact {{ {selection} }} }} }} {tail}"
    return by_path, by_id


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> dict[str, Any]:
    """A team's PUBLIC project: prep logs ds, c1 and c2 use it, c1 logs out1. Its
    PRIVATE project: h1 uses ds and logs h_out, which the public c4 uses and logs c4_out
    from: an outsider's walk from ds must not go through h1 to c4."""
    admin, member, outsider = await make_user("la"), await make_user("lam"), await make_user("lao")
    team = await api.team_with(admin, member, prefix="lateam")
    public = await Lab.open(api, admin, "PUBLIC", entity=team)
    private = await Lab.open(api, admin, "PRIVATE", entity=team)
    public.run("prep", "c1", "c2", "c4").log("prep", "ds")
    await public.flush()
    public.use("c1", public.art("ds")).use("c2", public.art("ds")).log("c1", "out1")
    await public.flush()
    private.run("h1").use("h1", public.art("ds")).log("h1", "h_out", type_="model")
    await private.flush()
    public.use("c4", private.art("h_out")).log("c4", "c4_out")
    await public.flush()
    ids = await public.ids(public.art("ds"), public.art("c4_out"))
    return {
        "paths": {"ds": public.art("ds"), "c4_out": public.art("c4_out")},
        "ids": {"ds": ids[public.art("ds")], "c4_out": ids[public.art("c4_out")]},
        "keys": {"anonymous": None, "outsider": outsider.key, "member": member.key},
    }


async def answer(api: Api, query: str, variables: dict[str, Any], key: str | None) -> Any:
    response = await api.post(query, variables, key)
    assert response.status_code == 200, response.text
    return response.json()


async def counted(
    api: Api, query: str, variables: dict[str, Any], key: str | None
) -> tuple[int, Any]:
    before = await sql_queries(api)
    body = await answer(api, query, variables, key)
    return await sql_queries(api) - before, body


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without the errors' locations (the two documents differ in layout)."""
    errors = [{k: v for k, v in e.items() if k != "locations"} for e in body.get("errors", [])]
    return {**body, "errors": errors} if errors else body


@pytest.mark.parametrize("viewer", ["anonymous", "outsider", "member"])
@pytest.mark.parametrize("shape", [*AHEAD, *FALLBACK])
@pytest.mark.parametrize("start", ["ds", "c4_out"])
async def test_read_ahead_lineage_answers_as_the_loader_does(
    api: Api, world: dict[str, Any], shape: str, viewer: str, start: str
) -> None:
    by_path, by_id = documents({**AHEAD, **FALLBACK}[shape])
    key = world["keys"][viewer]
    ahead = await answer(api, by_path, {"p": world["paths"][start], **VARIABLES}, key)
    loaded = await answer(api, by_id, {"i": world["ids"][start], **VARIABLES}, key)
    assert ahead == loaded
    assert "errors" not in ahead, ahead
    assert ahead["data"]["x"] is not None


@pytest.mark.parametrize("shape", BAD)
@pytest.mark.parametrize("viewer", ["anonymous", "member"])
async def test_bad_arguments_are_refused_as_before(
    api: Api, world: dict[str, Any], shape: str, viewer: str
) -> None:
    by_path, by_id = documents(BAD[shape])
    key = world["keys"][viewer]
    variables = {"d": "UPSTREAM", "n": -1, "l": 5}
    ahead = await answer(api, by_path, {"p": world["paths"]["ds"], **variables}, key)
    loaded = await answer(api, by_id, {"i": world["ids"]["ds"], **variables}, key)
    assert comparable(ahead) == comparable(loaded)
    (error,) = ahead["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["path"] == ["x", "lineage"]


async def test_private_nodes_are_neither_returned_nor_walked_through(
    api: Api, world: dict[str, Any]
) -> None:
    by_path, _ = documents(AHEAD["variables"])
    seen = {}
    for viewer, key in world["keys"].items():
        for start, direction in (("ds", "DOWNSTREAM"), ("c4_out", "UPSTREAM")):
            variables = {"p": world["paths"][start], **VARIABLES, "d": direction}
            n, body = await counted(api, by_path, variables, key)
            graph = body["data"]["x"]["lineage"]
            seen[(viewer, start)] = sorted(labels(graph))
            assert n == 1, (viewer, start)  # the key, the version, the walk and its rows
    assert seen[("outsider", "ds")] == seen[("anonymous", "ds")]
    assert seen[("outsider", "ds")] == ["art:ds:v0", "art:out1:v0", "run:c1", "run:c2"]
    assert seen[("member", "ds")] == [
        "art:c4_out:v0", "art:ds:v0", "art:h_out:v0", "art:out1:v0",
        "run:c1", "run:c2", "run:c4", "run:h1",
    ]  # fmt: skip
    assert seen[("outsider", "c4_out")] == ["art:c4_out:v0", "run:c4"]
    assert seen[("member", "c4_out")] == [
        "art:c4_out:v0", "art:ds:v0", "art:h_out:v0", "run:c4", "run:h1", "run:prep",
    ]  # fmt: skip


@pytest.mark.parametrize("shape", AHEAD)
async def test_each_read_ahead_shape_is_one_statement(
    api: Api, world: dict[str, Any], shape: str
) -> None:
    by_path, _ = documents(AHEAD[shape])
    n, body = await counted(
        api, by_path, {"p": world["paths"]["ds"], **VARIABLES}, world["keys"]["member"]
    )
    assert "errors" not in body, body
    assert n == 1


@pytest.mark.parametrize("shape", FALLBACK)
async def test_other_selections_load_the_lineage_as_before(
    api: Api, world: dict[str, Any], shape: str
) -> None:
    by_path, _ = documents(FALLBACK[shape])
    n, body = await counted(api, by_path, {"p": world["paths"]["ds"]}, world["keys"]["member"])
    assert "errors" not in body, body
    # skipped: the walk was read ahead for nothing; the others: the key with the
    # version (and usedBy's page), then the walks and their rows
    assert n == 1 if shape == "skipped" else n > 2, n


async def test_a_cached_document_reads_each_requests_arguments_ahead(
    api: Api, world: dict[str, Any]
) -> None:
    """One document, its arguments as variables: each request's walk is read ahead
    (one statement), whatever the requests before it asked for."""
    by_path, by_id = documents(AHEAD["variables"])
    key = world["keys"]["member"]
    sizes = []
    for start, direction, depth, limit in (
        ("ds", "DOWNSTREAM", 20, 10000),
        ("c4_out", "UPSTREAM", 20, 10000),
        ("ds", "DOWNSTREAM", 1, 10000),
        ("ds", "DOWNSTREAM", 20, 2),
        ("c4_out", "UPSTREAM", 2, 10000),
    ):
        variables = {"d": direction, "n": depth, "l": limit}
        n, ahead = await counted(api, by_path, {"p": world["paths"][start], **variables}, key)
        loaded = await answer(api, by_id, {"i": world["ids"][start], **variables}, key)
        assert ahead == loaded
        assert n == 1
        sizes.append(
            (
                len(ahead["data"]["x"]["lineage"]["nodes"]),
                ahead["data"]["x"]["lineage"]["truncated"],
            )
        )
    assert sizes == [(8, False), (6, False), (4, True), (2, True), (3, True)]


async def test_a_missing_or_unreadable_start_is_null(api: Api, world: dict[str, Any]) -> None:
    by_path, _ = documents(AHEAD["literals"])
    ds = world["paths"]["ds"]
    for path in (ds.replace(":v0", ":v9"), ds.replace("/ds:", "/nothing:")):
        n, body = await counted(api, by_path, {"p": path}, world["keys"]["member"])
        assert body == {"data": {"x": None}}
        assert n == 1


@pytest.mark.parametrize("shape", [*AHEAD, *FALLBACK])
async def test_the_read_ahead_answers_as_graphql_cores_own_execution(
    api: Api, world: dict[str, Any], db: Database, settings: Settings, shape: str
) -> None:
    by_path, _ = documents({**AHEAD, **FALLBACK}[shape])
    viewer = await authenticate(db, f"Bearer {world['keys']['member']}")
    answers = []
    for fast in (True, False):
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        schema = lineage_schema(fast_execution=fast)
        result = await schema.execute(
            by_path, {"p": world["paths"]["ds"], **VARIABLES}, context_value=context
        )
        answers.append((result.data, [e.formatted for e in result.errors or []]))
    assert answers[0] == answers[1]
    data, errors = answers[0]
    assert not errors, errors
    assert data is not None
    assert data["x"] is not None


async def test_a_walk_past_the_cut_loads_its_rows_after_it(api: Api, make_user: Any) -> None:
    """A walk of more than ROWS_WITH_WALK nodes: its rows come from a query per kind, side
    by side, after the statement that walked."""
    user = await make_user("lab")
    lab = await Lab.open(api, user)
    lab.run("prep").log("prep", "hub")
    await lab.flush()
    fan = ROWS_WITH_WALK // 2 + 1  # each run and its output: 1 + 2 * fan nodes
    lab.run(*(f"r{i}" for i in range(fan)))
    await lab.flush(parallel=True)
    for i in range(fan):
        lab.use(f"r{i}", lab.art("hub")).log(f"r{i}", f"o{i}")
    await lab.flush(parallel=True)
    by_path, by_id = documents(AHEAD["literals"])
    n, ahead = await counted(api, by_path, {"p": lab.art("hub")}, user.key)
    hub = (await lab.ids(lab.art("hub")))[lab.art("hub")]
    loaded = await answer(api, by_id, {"i": hub}, user.key)
    assert ahead == loaded
    graph = ahead["data"]["x"]["lineage"]
    assert len(graph["nodes"]) == 1 + 2 * fan > ROWS_WITH_WALK
    assert not graph["truncated"]
    assert n == 3  # the key, the version and the walk; the runs' rows; the artifacts'
