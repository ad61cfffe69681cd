"""Access for every artifact mutation (docs/semantics.md, "Access"), and cross-project use.

A team owns a PRIVATE, a PUBLIC and an OPEN project, each with a run, a committed v0 and a
PENDING version. Anonymous writes are UNAUTHENTICATED, an outsider's writes NOT_FOUND where
it cannot read and FORBIDDEN where it can read but not write. Refused writes change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from server.db.database import Database
from server.domain.ids import decode_id_of
from tests.fixtures.artifacts import (
    ALIASES,
    ARTIFACT,
    COMMIT,
    DELETE,
    LOG,
    SET_TTL,
    USE,
    content,
    entries_for,
    log_and_commit,
    log_artifact,
    new_run,
)
from tests.fixtures.service import Api

VISIBILITIES = ("PRIVATE", "PUBLIC", "OPEN")
CREATE_PROJECT = """mutation($e: String!, $n: String!, $v: Visibility!) {
  createProject(input: {entity: $e, name: $n, visibility: $v}) { id } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Artifact { state aliases ttlDurationSeconds } } }"


@dataclass
class World:
    team: str
    keys: dict[str, str | None]
    runs: dict[str, str]  # visibility -> run path
    committed: dict[str, str]  # visibility -> artifact id of v0
    pending: dict[str, str]  # visibility -> artifact id of a PENDING version

    def path(self, visibility: str, spec: str = "v0") -> str:
        return f"{self.team}/p-{visibility.lower()}/ds:{spec}"


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> World:
    admin, member, outsider = await make_user("adm"), await make_user("mem"), await make_user("out")
    team = await api.team_with(admin, member, prefix="team")
    world = World(
        team,
        {"anonymous": None, "outsider": outsider.key, "member": member.key, "admin": admin.key},
        {},
        {},
        {},
    )
    for visibility in VISIBILITIES:
        project = f"p-{visibility.lower()}"
        await api.ok(CREATE_PROJECT, {"e": team, "n": project, "v": visibility}, admin.key)
        run = await new_run(api, admin.key, project, entity=team)
        world.runs[visibility] = run
        committed = await log_and_commit(
            api, admin.key, run, "ds", {"f": content()}, aliases=["keep"]
        )
        world.committed[visibility] = committed["id"]
        pending = await log_artifact(api, admin.key, run, "ds", {"g": content()})
        world.pending[visibility] = pending["artifact"]["id"]
    return world


def mutation(name: str, world: World, visibility: str) -> tuple[str, dict[str, Any]]:
    run, committed = world.runs[visibility], world.committed[visibility]
    if name == "logArtifact":
        inp = {
            "run": run,
            "name": "ds",
            "type": "dataset",
            "entries": entries_for({"h": content()}),
        }
        return LOG, {"input": inp}
    if name == "commitArtifact":
        return COMMIT, {"id": world.pending[visibility]}
    if name == "useArtifact":
        return USE, {"run": run, "art": world.path(visibility)}
    if name == "updateArtifactAliases":
        return ALIASES, {"id": committed, "add": ["stolen"], "remove": ["keep"]}
    if name == "setArtifactTtl":
        return SET_TTL, {"id": committed, "ttl": 0}
    assert name == "deleteArtifact"
    return DELETE, {"id": committed, "da": True}


MUTATIONS = [
    "logArtifact",
    "commitArtifact",
    "useArtifact",
    "updateArtifactAliases",
    "setArtifactTtl",
    "deleteArtifact",
]
REFUSALS = [("anonymous", v, "UNAUTHENTICATED") for v in VISIBILITIES] + [
    ("outsider", "PRIVATE", "NOT_FOUND"),
    ("outsider", "PUBLIC", "FORBIDDEN"),
]


@pytest.mark.parametrize("name", MUTATIONS)
@pytest.mark.parametrize(("role", "visibility", "code"), REFUSALS)
async def test_refused_writes_change_nothing(
    api: Api, world: World, db: Database, name: str, role: str, visibility: str, code: str
) -> None:
    query, variables = mutation(name, world, visibility)
    assert await api.error(query, variables, key=world.keys[role]) == code
    admin = world.keys["admin"]
    committed = (await api.ok(NODE, {"id": world.committed[visibility]}, key=admin))["node"]
    assert committed["state"] == "COMMITTED"
    assert committed["ttlDurationSeconds"] is None
    assert sorted(committed["aliases"]) == ["keep", "latest"]
    pending = (await api.ok(NODE, {"id": world.pending[visibility]}, key=admin))["node"]
    assert pending["state"] == "PENDING"
    counts = await db.pool.fetchrow(
        """SELECT (SELECT count(*) FROM artifact_versions c
                    WHERE c.collection_id = v.collection_id) AS versions,
                  (SELECT count(*) FROM artifact_uses WHERE version_id = v.id) AS uses
             FROM artifact_versions v WHERE v.id = $1""",
        decode_id_of(world.committed[visibility], "Artifact"),
    )
    assert counts is not None
    assert (counts["versions"], counts["uses"]) == (2, 0)


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("role", ["anonymous", "outsider", "member"])
async def test_reads_of_artifacts_follow_the_project(
    api: Api, world: World, visibility: str, role: str
) -> None:
    data = await api.ok(ARTIFACT, {"path": world.path(visibility)}, key=world.keys[role])
    node = await api.ok(NODE, {"id": world.committed[visibility]}, key=world.keys[role])
    readable = visibility != "PRIVATE" or role == "member"
    assert (data["artifact"] is not None) is readable
    assert (node["node"] is not None) is readable


async def test_members_may_do_everything(api: Api, world: World) -> None:
    member = world.keys["member"]
    run = await new_run(api, member, "p-private", entity=world.team)  # type: ignore[arg-type]
    files = {"m": content()}
    made = await log_and_commit(api, member, run, "by-member", files)  # type: ignore[arg-type]
    assert made["version"] == "v0"
    for query, variables in [
        (USE, {"run": run, "art": world.path("PRIVATE")}),
        (ALIASES, {"id": made["id"], "add": ["mine"]}),
        (SET_TTL, {"id": made["id"], "ttl": 100}),
        (DELETE, {"id": made["id"], "da": True}),
    ]:
        await api.ok(query, variables, key=member)


async def test_open_projects_take_writes_from_any_signed_in_user(
    api: Api, world: World, make_user: Any
) -> None:
    stranger = await make_user("stranger")
    run = world.runs["OPEN"]
    made = await log_and_commit(api, stranger.key, run, "by-stranger", {"s": content()})
    assert made["state"] == "COMMITTED"
    await api.ok(ALIASES, {"id": made["id"], "add": ["x"]}, key=stranger.key)
    await api.ok(USE, {"run": run, "art": f"{world.team}/p-open/by-stranger:x"}, key=stranger.key)


async def test_cross_project_use_needs_read_on_the_artifact_and_write_on_the_run(
    api: Api, world: World, make_user: Any, db: Database
) -> None:
    outsider = await make_user("user")
    own_run = await new_run(api, outsider.key)
    used = (
        await api.ok(USE, {"run": own_run, "art": world.path("PUBLIC", "keep")}, key=outsider.key)
    )["useArtifact"]
    assert used["id"] == world.committed["PUBLIC"]
    assert used["version"] == "v0"
    # using again records nothing new
    await api.ok(USE, {"run": own_run, "art": world.path("PUBLIC", "latest")}, key=outsider.key)
    uses = await db.pool.fetchval(
        "SELECT count(*) FROM artifact_uses WHERE version_id = $1",
        decode_id_of(world.committed["PUBLIC"], "Artifact"),
    )
    assert uses == 1
    assert (
        await api.error(USE, {"run": own_run, "art": world.path("PRIVATE")}, key=outsider.key)
        == "NOT_FOUND"
    )
    # a readable artifact into somebody else's run: that run decides
    assert (
        await api.error(
            USE, {"run": world.runs["PUBLIC"], "art": world.path("PUBLIC")}, key=outsider.key
        )
        == "FORBIDDEN"
    )
    assert (
        await api.error(
            USE, {"run": world.runs["PRIVATE"], "art": world.path("PUBLIC")}, key=outsider.key
        )
        == "NOT_FOUND"
    )
    # a path without an entity means the viewer's own
    assert (
        await api.error(USE, {"run": own_run, "art": "nope/ds:v0"}, key=outsider.key) == "NOT_FOUND"
    )
