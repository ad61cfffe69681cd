"""One-hop lineage fields (docs/semantics.md, "Lineage", "Artifacts"): loggedBy, usedBy, loggedArtifacts,
usedArtifacts: their orders, the type filter, totalCount, keyset cursors, repeated use,
cross-project edges and deduplicated logs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

RUN_HOPS = """query($p: String!, $t: String, $first: Int, $after: String) { run(path: $p) {
  loggedArtifacts(type: $t, first: $first, after: $after) { ...page }
  usedArtifacts(type: $t, first: $first, after: $after) { ...page } } }
fragment page on ArtifactConnection {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name version type } } }"""

USED_BY = """query($p: String!, $first: Int, $after: String) { artifact(path: $p) {
  loggedBy { runId }
  usedBy(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { runId } } } } }"""


def names(conn: dict[str, Any]) -> list[str]:
    return [f"{e['node']['name']}:{e['node']['version']}" for e in conn["edges"]]


def run_ids(conn: dict[str, Any]) -> list[str]:
    return [e["node"]["runId"] for e in conn["edges"]]


async def run_hops(lab: Lab, run_id: str, **args: Any) -> dict[str, Any]:
    data = await lab.api.ok(RUN_HOPS, {"p": lab.run_path(run_id), **args}, lab.key)
    run: dict[str, Any] = data["run"]
    return run


async def used_by(lab: Lab, path: str, key: str | None = "self", **args: Any) -> dict[str, Any]:
    data = await lab.api.ok(USED_BY, {"p": path, **args}, lab.key if key == "self" else key)
    art: dict[str, Any] = data["artifact"]
    return art


async def test_orders_follow_logging_and_first_use_not_ids_or_names(
    api: Api, make_user: Any
) -> None:
    lab = await Lab.open(api, await make_user("o"))
    lab.run("maker", "r1", "r2", "r3", "user")
    # logged: zeta, alpha, then a second version of zeta, then mid
    lab.log("maker", "zeta").log("maker", "alpha", type_="model").log("maker", "zeta").log(
        "maker", "mid"
    )
    # used in an order that is neither id nor name order; alpha is used twice
    lab.use("user", lab.art("mid")).use("user", lab.art("zeta", "v0")).use("user", lab.art("alpha"))
    lab.use("user", lab.art("zeta", "v0"))
    # after "user", runs created r1, r2, r3 use alpha in the order r3, r1, r2 (r3 twice)
    lab.use("r3", lab.art("alpha")).use("r1", lab.art("alpha")).use("r3", lab.art("alpha"))
    lab.use("r2", lab.art("alpha"))
    await lab.flush()

    maker = await run_hops(lab, "maker")
    assert names(maker["loggedArtifacts"]) == ["zeta:v0", "alpha:v0", "zeta:v1", "mid:v0"]
    assert maker["loggedArtifacts"]["totalCount"] == 4
    user = await run_hops(lab, "user")
    # using zeta:v0 again recorded nothing: it stays in its first place, once
    assert names(user["usedArtifacts"]) == ["mid:v0", "zeta:v0", "alpha:v0"]
    assert user["usedArtifacts"]["totalCount"] == 3
    assert user["loggedArtifacts"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }

    alpha = await used_by(lab, lab.art("alpha"))
    assert alpha["loggedBy"] == {"runId": "maker"}
    assert run_ids(alpha["usedBy"]) == ["user", "r3", "r1", "r2"]
    assert alpha["usedBy"]["totalCount"] == 4


async def test_a_typed_page_carries_the_json_documents_it_selects(api: Api, make_user: Any) -> None:
    """(The documents are read only when selected: without them the rows hold none.)"""
    lab = await Lab.open(api, await make_user("j"))
    lab.run("r", "u")
    lab.log("r", "d1").log("r", "m1", type_="model").use("u", lab.art("m1"))
    await lab.flush()
    data = await api.ok(
        """query($p: String!, $u: String!) {
             r: run(path: $p) { loggedArtifacts(type: "model") { edges { node { name metadata } } } }
             u: run(path: $u) { usedArtifacts(type: "model") { edges { node { name metadata } } } } }""",
        {"p": lab.run_path("r"), "u": lab.run_path("u")},
        lab.key,
    )
    expected = [{"node": {"name": "m1", "metadata": {}}}]
    assert data["r"]["loggedArtifacts"]["edges"] == expected
    assert data["u"]["usedArtifacts"]["edges"] == expected


async def test_type_filter_applies_to_pages_and_counts(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("t"))
    lab.run("r", "u")
    for name, type_ in [
        ("d1", "dataset"),
        ("m1", "model"),
        ("d2", "dataset"),
        ("c1", "code"),
        ("m2", "model"),
    ]:
        lab.log("r", name, type_=type_).use("u", lab.art(name))
    await lab.flush()
    for run_id, field in [("r", "loggedArtifacts"), ("u", "usedArtifacts")]:
        models = (await run_hops(lab, run_id, t="model"))[field]
        assert names(models) == ["m1:v0", "m2:v0"]
        assert models["totalCount"] == 2
        assert {e["node"]["type"] for e in models["edges"]} == {"model"}
        page = (await run_hops(lab, run_id, t="dataset", first=1))[field]
        assert names(page) == ["d1:v0"]
        assert page["totalCount"] == 2
        assert page["pageInfo"]["hasNextPage"]
        rest = (
            await run_hops(lab, run_id, t="dataset", first=1, after=page["pageInfo"]["endCursor"])
        )[field]
        assert names(rest) == ["d2:v0"]
        assert not rest["pageInfo"]["hasNextPage"]
        none = (await run_hops(lab, run_id, t="no-such-type"))[field]
        assert none["totalCount"] == 0
        assert none["edges"] == []
        assert (await run_hops(lab, run_id))[field]["totalCount"] == 5
    # differently filtered pages and counts of several runs in one request stay apart
    data = await api.ok(
        """query($r: String!, $u: String!) { r: run(path: $r) { ...both } u: run(path: $u) { ...both } }
           fragment both on Run {
             m: loggedArtifacts(type: "model") { totalCount edges { node { name } } }
             c: usedArtifacts(type: "code") { totalCount edges { node { name } } }
             all: loggedArtifacts { totalCount } }""",
        {"r": lab.run_path("r"), "u": lab.run_path("u")},
        lab.key,
    )
    assert data["r"]["m"] == {
        "totalCount": 2,
        "edges": [{"node": {"name": "m1"}}, {"node": {"name": "m2"}}],
    }
    assert data["r"]["c"] == {"totalCount": 0, "edges": []}
    assert data["r"]["all"] == {"totalCount": 5}
    assert data["u"]["m"] == {"totalCount": 0, "edges": []}
    assert data["u"]["all"] == {"totalCount": 0}
    assert data["u"]["c"] == {"totalCount": 1, "edges": [{"node": {"name": "c1"}}]}


async def test_keyset_cursors_walk_every_page_once(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("k"))
    lab.run("r")
    for i in range(7):
        lab.log("r", f"a{i}").run(f"u{i}").use(f"u{i}", lab.art("a0"))
    for i in range(7):
        lab.use("r", lab.art(f"a{6 - i}"))
    await lab.flush()

    async def walk(fetch: Any, label: Any, total: int = 7) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            conn = await fetch(after)
            assert conn["totalCount"] == total
            assert len(conn["edges"]) <= 3
            seen += label(conn)
            # each edge's cursor continues right after that edge
            if conn["edges"]:
                assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
            if not conn["pageInfo"]["hasNextPage"]:
                return seen
            after = conn["pageInfo"]["endCursor"]

    logged = await walk(
        lambda a: _field(run_hops(lab, "r", first=3, after=a), "loggedArtifacts"), names
    )
    assert logged == [f"a{i}:v0" for i in range(7)]
    used = await walk(
        lambda a: _field(run_hops(lab, "r", first=3, after=a), "usedArtifacts"), names
    )
    assert used == [f"a{6 - i}:v0" for i in range(7)]
    users = await walk(
        lambda a: _field(used_by(lab, lab.art("a0"), first=3, after=a), "usedBy"), run_ids, 8
    )
    assert users == [f"u{i}" for i in range(7)] + ["r"]

    # a cursor from the middle resumes right after its edge
    page = (await run_hops(lab, "r", first=7))["loggedArtifacts"]
    middle = page["edges"][3]["cursor"]
    assert names((await run_hops(lab, "r", first=2, after=middle))["loggedArtifacts"]) == [
        "a4:v0",
        "a5:v0",
    ]
    # first: 0 gives no edges but still knows there are more
    empty = (await run_hops(lab, "r", first=0))["loggedArtifacts"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True
    assert empty["totalCount"] == 7


async def _field(coro: Any, name: str) -> dict[str, Any]:
    result: dict[str, Any] = (await coro)[name]
    return result


@pytest.mark.parametrize(
    "args", [{"first": 1001}, {"first": -1}, {"after": "not a cursor"}, {"after": "WyJ4Il0"}]
)
async def test_bad_page_arguments_are_bad_user_input(
    api: Api, make_user: Any, args: dict[str, Any]
) -> None:
    lab = await Lab.open(api, await make_user("b"))
    await lab.run("r").log("r", "a").flush()
    assert await api.error(RUN_HOPS, {"p": lab.run_path("r"), **args}, lab.key) == "BAD_USER_INPUT"
    assert await api.error(USED_BY, {"p": lab.art("a"), **args}, lab.key) == "BAD_USER_INPUT"


async def test_cross_project_use_of_a_public_artifact(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    public = await Lab.open(api, alice, "PUBLIC")
    await public.run("prep").log("prep", "ds").flush()
    mine = await Lab.open(api, bob)  # private to bob
    await (
        mine.run("train")
        .use("train", public.art("ds"))
        .log("train", "model", type_="model")
        .flush()
    )

    train = await run_hops(mine, "train")
    assert names(train["usedArtifacts"]) == ["ds:v0"]
    assert train["usedArtifacts"]["totalCount"] == 1
    # bob sees his own (private) run among the users of alice's artifact
    ds_for_bob = await used_by(mine, public.art("ds"))
    assert ds_for_bob["loggedBy"] == {"runId": "prep"}
    assert run_ids(ds_for_bob["usedBy"]) == ["train"]
    assert ds_for_bob["usedBy"]["totalCount"] == 1
    # alice and anonymous readers cannot see bob's private run: left out and not counted
    for key in (alice.key, None):
        ds = await used_by(public, public.art("ds"), key=key)
        assert ds["usedBy"]["edges"] == []
        assert ds["usedBy"]["totalCount"] == 0
        assert ds["loggedBy"] == {"runId": "prep"}


async def test_deduplicated_log_is_a_logged_edge_but_logged_by_stays_the_first_run(
    api: Api, make_user: Any
) -> None:
    lab = await Lab.open(api, await make_user("d"))
    await lab.run("first", "second").log("first", "ds", content="same").flush()
    result = await lab.log("second", "other").log("second", "ds", content="same").flush()
    assert [r["deduplicated"] for r in result] == [False, True]
    ids = await lab.ids(lab.art("ds"), lab.run_path("first"), lab.run_path("second"))
    assert result[1]["artifact"]["id"] == ids[lab.art("ds")]

    # the dedup log comes after "other" in the second run's outputs, though ds is older
    assert names((await run_hops(lab, "second"))["loggedArtifacts"]) == ["other:v0", "ds:v0"]
    assert names((await run_hops(lab, "first"))["loggedArtifacts"]) == ["ds:v0"]
    data = await api.ok(
        """query($p: String!) { artifact(path: $p) { loggedBy { runId }
             collection { versions { totalCount } }
             lineage(direction: UPSTREAM) { nodes { __typename ... on Node { id } } edges { source target kind } } } }""",
        {"p": lab.art("ds", "latest")},
        lab.key,
    )
    art = data["artifact"]
    assert art["loggedBy"] == {"runId": "first"}
    assert art["collection"]["versions"]["totalCount"] == 1  # no new version
    edges = {(e["source"], e["target"], e["kind"]) for e in art["lineage"]["edges"]}
    ds = ids[lab.art("ds")]
    assert edges == {
        (ids[lab.run_path("first")], ds, "LOGGED"),
        (ids[lab.run_path("second")], ds, "LOGGED"),
    }
    # logging it yet again from the same run records nothing new
    await lab.log("second", "ds", content="same").flush()
    assert names((await run_hops(lab, "second"))["loggedArtifacts"]) == ["other:v0", "ds:v0"]
