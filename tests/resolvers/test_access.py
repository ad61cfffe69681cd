"""The access matrix of docs/semantics.md "Access": visibility x kind of viewer, for reads and writes.

One team owns a PRIVATE, a PUBLIC and an OPEN project, each with a run and a sweep. The
viewers: anonymous, an outsider (signed in, not a member), a team MEMBER and the ADMIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.fixtures.service import Api, unique

VISIBILITIES = ("PRIVATE", "PUBLIC", "OPEN")
ROLES = ("anonymous", "outsider", "member", "admin")


@dataclass
class World:
    team: str
    keys: dict[str, str | None]
    # visibility -> {"project": id, "run": id, "sweep": id}
    ids: dict[str, dict[str, str]]

    def key(self, role: str) -> str | None:
        return self.keys[role]

    def project(self, visibility: str) -> str:
        return f"p-{visibility.lower()}"


def can_read(role: str, visibility: str) -> bool:
    return visibility != "PRIVATE" or role in ("member", "admin")


def write_outcome(role: str, visibility: str) -> str | None:
    """The error code of a run/sweep write, or None when it succeeds."""
    if role == "anonymous":
        return "UNAUTHENTICATED"
    if role in ("member", "admin") or visibility == "OPEN":
        return None
    return "NOT_FOUND" if visibility == "PRIVATE" else "FORBIDDEN"


async def make_team(api: Api, make_user: Any) -> tuple[str, dict[str, str | None]]:
    admin, member, outsider = await make_user("adm"), await make_user("mem"), await make_user("out")
    team = unique("team")
    await api.ok("mutation($n: String!) { createTeam(name: $n) { name } }", {"n": team}, admin.key)
    await api.ok(
        """mutation($t: String!, $u: String!) {
             addTeamMember(team: $t, username: $u, role: MEMBER) { name } }""",
        {"t": team, "u": member.name},
        admin.key,
    )
    keys = {"anonymous": None, "outsider": outsider.key, "member": member.key, "admin": admin.key}
    return team, keys


CREATE_PROJECT = """mutation($e: String!, $n: String!, $v: Visibility!) {
  createProject(input: {entity: $e, name: $n, visibility: $v}) { id name visibility }
}"""


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> World:
    team, keys = await make_team(api, make_user)
    ids: dict[str, dict[str, str]] = {}
    for visibility in VISIBILITIES:
        name = f"p-{visibility.lower()}"
        project = await api.ok(
            CREATE_PROJECT, {"e": team, "n": name, "v": visibility}, keys["admin"]
        )
        run = await api.ok(
            """mutation($e: String!, $p: String!) {
                 upsertRun(input: {entity: $e, project: $p, runId: "r0"}) { id } }""",
            {"e": team, "p": name},
            keys["admin"],
        )
        sweep = await api.ok(
            """mutation($e: String!, $p: String!) {
                 createSweep(input: {entity: $e, project: $p, sweepId: "s0"}) { id } }""",
            {"e": team, "p": name},
            keys["admin"],
        )
        ids[visibility] = {
            "project": project["createProject"]["id"],
            "run": run["upsertRun"]["id"],
            "sweep": sweep["createSweep"]["id"],
        }
    return World(team, keys, ids)


MATRIX = [(role, visibility) for role in ROLES for visibility in VISIBILITIES]


# ---- reads -------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
async def test_lookups_show_only_readable_projects(
    api: Api, world: World, role: str, visibility: str
) -> None:
    project = world.project(visibility)
    data = await api.ok(
        """query($e: String!, $p: String!, $run: String!, $sweep: String!) {
             project(entity: $e, name: $p) { name visibility }
             entity(name: $e) { project(name: $p) { name } }
             run(path: $run) { runId project { name } }
             sweep(path: $sweep) { sweepId project { name } }
           }""",
        {
            "e": world.team,
            "p": project,
            "run": f"{world.team}/{project}/r0",
            "sweep": f"{world.team}/{project}/s0",
        },
        world.key(role),
    )
    if can_read(role, visibility):
        assert data["project"] == {"name": project, "visibility": visibility}
        assert data["entity"]["project"] == {"name": project}
        assert data["run"] == {"runId": "r0", "project": {"name": project}}
        assert data["sweep"] == {"sweepId": "s0", "project": {"name": project}}
    else:
        assert data["project"] is None
        assert data["entity"]["project"] is None
        assert data["run"] is None
        assert data["sweep"] is None


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
@pytest.mark.parametrize("kind", ["project", "run", "sweep"])
async def test_node_of_an_unreadable_object_is_null(
    api: Api, world: World, role: str, visibility: str, kind: str
) -> None:
    global_id = world.ids[visibility][kind]
    data = await api.ok(
        "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, world.key(role)
    )
    assert data["node"] == ({"id": global_id} if can_read(role, visibility) else None)


@pytest.mark.parametrize("role", ROLES)
async def test_entity_projects_lists_and_counts_only_readable_ones(
    api: Api, world: World, role: str
) -> None:
    data = await api.ok(
        """query($e: String!) {
             entity(name: $e) { projects { totalCount edges { node { name } } } } }""",
        {"e": world.team},
        world.key(role),
    )
    connection = data["entity"]["projects"]
    expected = sorted(world.project(v) for v in VISIBILITIES if can_read(role, v))
    assert [e["node"]["name"] for e in connection["edges"]] == expected
    assert connection["totalCount"] == len(expected)


# ---- writes ------------------------------------------------------------------------------


async def _run_exists(api: Api, world: World, path: str) -> bool:
    data = await api.ok(
        "query($p: String!) { run(path: $p) { id } }", {"p": path}, world.key("admin")
    )
    return data["run"] is not None


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
async def test_upsert_run(api: Api, world: World, role: str, visibility: str) -> None:
    project, run_id = world.project(visibility), unique("r")
    query = """mutation($e: String!, $p: String!, $r: String!) {
                 upsertRun(input: {entity: $e, project: $p, runId: $r}) { path } }"""
    variables = {"e": world.team, "p": project, "r": run_id}
    path = f"{world.team}/{project}/{run_id}"
    expected = write_outcome(role, visibility)
    if expected is None:
        assert (await api.ok(query, variables, world.key(role)))["upsertRun"] == {"path": path}
    else:
        assert await api.error(query, variables, world.key(role)) == expected
    # a refused write leaves nothing behind
    assert await _run_exists(api, world, path) == (expected is None)


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
async def test_update_run(api: Api, world: World, role: str, visibility: str) -> None:
    path = f"{world.team}/{world.project(visibility)}/r0"
    marker = unique("m")
    query = """mutation($r: String!, $s: JSON!) {
                 updateRun(input: {run: $r, summary: $s}) { summary } }"""
    variables = {"r": path, "s": {marker: 1}}
    expected = write_outcome(role, visibility)
    if expected is None:
        data = await api.ok(query, variables, world.key(role))
        assert data["updateRun"]["summary"][marker] == 1
    else:
        assert await api.error(query, variables, world.key(role)) == expected
    summary = await api.ok(
        "query($p: String!) { run(path: $p) { summary } }", {"p": path}, world.key("admin")
    )
    assert (marker in summary["run"]["summary"]) == (expected is None)


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
async def test_create_sweep(api: Api, world: World, role: str, visibility: str) -> None:
    project, sweep_id = world.project(visibility), unique("s")
    query = """mutation($e: String!, $p: String!, $s: String!) {
                 createSweep(input: {entity: $e, project: $p, sweepId: $s}) { path } }"""
    variables = {"e": world.team, "p": project, "s": sweep_id}
    path = f"{world.team}/{project}/{sweep_id}"
    expected = write_outcome(role, visibility)
    if expected is None:
        assert (await api.ok(query, variables, world.key(role)))["createSweep"] == {"path": path}
    else:
        assert await api.error(query, variables, world.key(role)) == expected
    found = await api.ok(
        "query($p: String!) { sweep(path: $p) { id } }", {"p": path}, world.key("admin")
    )
    assert (found["sweep"] is not None) == (expected is None)


UPDATE_PROJECT = """mutation($e: String!, $n: String!, $v: Visibility) {
  updateProject(input: {entity: $e, name: $n, visibility: $v}) { visibility }
}"""


def visibility_outcome(role: str, visibility: str) -> str | None:
    """Only entity admins change visibility; the rest is refused as any write is."""
    if role == "anonymous":
        return "UNAUTHENTICATED"
    if role == "admin":
        return None
    if role == "outsider" and visibility == "PRIVATE":
        return "NOT_FOUND"
    return "FORBIDDEN"


@pytest.fixture(scope="module")
async def visibility_team(api: Api, make_user: Any) -> World:
    """A team of its own, so changed visibilities do not disturb the shared world."""
    team, keys = await make_team(api, make_user)
    return World(team, keys, {})


@pytest.mark.parametrize(("role", "visibility"), MATRIX)
@pytest.mark.parametrize("change", [True, False], ids=["other-value", "same-value"])
async def test_only_admins_set_visibility(
    api: Api, visibility_team: World, role: str, visibility: str, change: bool
) -> None:
    world = visibility_team
    name = unique("vp")
    await api.ok(CREATE_PROJECT, {"e": world.team, "n": name, "v": visibility}, world.key("admin"))
    target = ("PUBLIC" if visibility != "PUBLIC" else "OPEN") if change else visibility
    variables = {"e": world.team, "n": name, "v": target}
    expected = visibility_outcome(role, visibility)
    if expected is None:
        data = await api.ok(UPDATE_PROJECT, variables, world.key(role))
        assert data["updateProject"] == {"visibility": target}
    else:
        assert await api.error(UPDATE_PROJECT, variables, world.key(role)) == expected
    now = await api.ok(
        "query($e: String!, $n: String!) { project(entity: $e, name: $n) { visibility } }",
        {"e": world.team, "n": name},
        world.key("admin"),
    )
    assert now["project"]["visibility"] == (target if expected is None else visibility)


async def test_visibility_change_takes_effect_for_readers(api: Api, make_user: Any) -> None:
    owner, other = await make_user("own"), await make_user("oth")
    name = unique("p")
    await api.ok(CREATE_PROJECT, {"e": owner.name, "n": name, "v": "PRIVATE"}, owner.key)
    lookup = "query($e: String!, $n: String!) { project(entity: $e, name: $n) { name } }"
    variables = {"e": owner.name, "n": name}
    assert (await api.ok(lookup, variables, other.key))["project"] is None
    # the user is the admin of their personal entity
    await api.ok(UPDATE_PROJECT, {**variables, "v": "PUBLIC"}, owner.key)
    assert (await api.ok(lookup, variables, other.key))["project"] == {"name": name}
    assert (await api.ok(lookup, variables))["project"] == {"name": name}
    # and another user cannot turn it back
    assert await api.error(UPDATE_PROJECT, {**variables, "v": "PRIVATE"}, other.key) == "FORBIDDEN"


@pytest.mark.parametrize(
    "global_id",
    ["garbage", "", "UnVuOjA", "UnVuOjk5OTk5OTk5OTk5", "Tm9wZTox", "UnVuOi0x", "x" * 200],
    ids=["garbage", "empty", "run-0", "unknown-run", "unknown-kind", "negative", "long"],
)
async def test_node_of_an_unknown_id_is_null(api: Api, global_id: str) -> None:
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}))[
        "node"
    ] is None
