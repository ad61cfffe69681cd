"""Teams: createTeam, addTeamMember, and what membership grants."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.service import Api, unique

CREATE_TEAM = "mutation($n: String!) { createTeam(name: $n) { name isTeam } }"
ADD_MEMBER = """mutation($t: String!, $u: String!, $r: MemberRole!) {
  addTeamMember(team: $t, username: $u, role: $r) { name }
}"""
TEAMS = "{ viewer { teams { name isTeam } } }"


async def test_creator_is_the_first_admin_and_adds_members(api: Api, make_user: Any) -> None:
    admin, member, second_admin = await make_user("a"), await make_user("m"), await make_user("b")
    team = unique("team")
    created = await api.ok(CREATE_TEAM, {"n": team}, admin.key)
    assert created["createTeam"] == {"name": team, "isTeam": True}
    assert {"name": team, "isTeam": True} in (await api.ok(TEAMS, key=admin.key))["viewer"]["teams"]

    await api.ok(ADD_MEMBER, {"t": team, "u": member.name, "r": "MEMBER"}, admin.key)
    assert (await api.ok(TEAMS, key=member.key))["viewer"]["teams"] == [
        {"name": team, "isTeam": True}
    ]
    # a MEMBER may create projects and runs in the team ...
    await api.ok(
        'mutation($e: String!) { upsertRun(input: {entity: $e, project: "p", runId: "r"}) { id } }',
        {"e": team},
        member.key,
    )
    # ... but not add members
    variables = {"t": team, "u": second_admin.name, "r": "MEMBER"}
    assert await api.error(ADD_MEMBER, variables, member.key) == "FORBIDDEN"
    assert (await api.ok(TEAMS, key=second_admin.key))["viewer"]["teams"] == []

    # an ADMIN added by an admin may add members too
    await api.ok(ADD_MEMBER, {**variables, "r": "ADMIN"}, admin.key)
    third = await make_user("c")
    await api.ok(ADD_MEMBER, {"t": team, "u": third.name, "r": "MEMBER"}, second_admin.key)
    assert (await api.ok(TEAMS, key=third.key))["viewer"]["teams"] == [
        {"name": team, "isTeam": True}
    ]


async def test_outsiders_and_anonymous_cannot_add_members(api: Api, make_user: Any) -> None:
    admin, outsider = await make_user("a"), await make_user("o")
    team = unique("team")
    await api.ok(CREATE_TEAM, {"n": team}, admin.key)
    variables = {"t": team, "u": outsider.name, "r": "ADMIN"}
    assert await api.error(ADD_MEMBER, variables, outsider.key) == "FORBIDDEN"
    assert await api.error(ADD_MEMBER, variables) == "UNAUTHENTICATED"
    assert (await api.ok(TEAMS, key=outsider.key))["viewer"]["teams"] == []


async def test_create_team_needs_a_signed_in_user(api: Api) -> None:
    team = unique("team")
    assert await api.error(CREATE_TEAM, {"n": team}) == "UNAUTHENTICATED"
    assert (await api.ok("query($n: String!) { entity(name: $n) { name } }", {"n": team}))[
        "entity"
    ] is None


async def test_personal_entities_take_no_members(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    variables = {"t": alice.name, "u": bob.name, "r": "MEMBER"}
    assert await api.error(ADD_MEMBER, variables, alice.key) == "BAD_USER_INPUT"
    # bob gained nothing in alice's entity
    upsert = 'mutation($e: String!) { upsertRun(input: {entity: $e, project: "p"}) { id } }'
    assert await api.error(upsert, {"e": alice.name}, bob.key) == "NOT_FOUND"
    assert (await api.ok(TEAMS, key=bob.key))["viewer"]["teams"] == []


async def test_unknown_user_or_team_is_not_found(api: Api, make_user: Any) -> None:
    admin = await make_user("a")
    team = unique("team")
    await api.ok(CREATE_TEAM, {"n": team}, admin.key)
    assert (
        await api.error(ADD_MEMBER, {"t": team, "u": unique("ghost"), "r": "MEMBER"}, admin.key)
        == "NOT_FOUND"
    )
    assert (
        await api.error(
            ADD_MEMBER, {"t": unique("noteam"), "u": admin.name, "r": "MEMBER"}, admin.key
        )
        == "NOT_FOUND"
    )


async def test_team_names_are_shared_with_user_names(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    team = unique("team")
    await api.ok(CREATE_TEAM, {"n": team}, alice.key)
    assert await api.error(CREATE_TEAM, {"n": team}, bob.key) == "CONFLICT"
    # a user's name is taken too
    assert await api.error(CREATE_TEAM, {"n": alice.name}, bob.key) == "CONFLICT"
    # the failed attempts made bob member of nothing
    assert (await api.ok(TEAMS, key=bob.key))["viewer"]["teams"] == []


async def test_invalid_team_name_is_bad_input(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    assert await api.error(CREATE_TEAM, {"n": "my team"}, alice.key) == "BAD_USER_INPUT"


async def test_the_last_admin_cannot_step_down(api: Api, make_user: Any) -> None:
    """A team keeps at least one admin: otherwise nobody could manage it again."""
    admin, other = await make_user("a"), await make_user("o")
    team = unique("team")
    await api.ok(CREATE_TEAM, {"n": team}, admin.key)
    demote_self = {"t": team, "u": admin.name, "r": "MEMBER"}
    assert await api.error(ADD_MEMBER, demote_self, admin.key) == "CONFLICT"
    # still an admin: may add members
    await api.ok(ADD_MEMBER, {"t": team, "u": other.name, "r": "ADMIN"}, admin.key)
    # with a second admin, either may step down, but not both
    await api.ok(ADD_MEMBER, demote_self, admin.key)
    assert await api.error(ADD_MEMBER, demote_self, admin.key) == "FORBIDDEN"
    demote_other = {"t": team, "u": other.name, "r": "MEMBER"}
    assert await api.error(ADD_MEMBER, demote_other, other.key) == "CONFLICT"


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    api: Api, make_user: Any
) -> None:
    a, b, newcomer = await make_user("a"), await make_user("b"), await make_user("n")
    team = unique("team")
    await api.ok(CREATE_TEAM, {"n": team}, a.key)
    await api.ok(ADD_MEMBER, {"t": team, "u": b.name, "r": "ADMIN"}, a.key)
    results = await asyncio.gather(
        api.gql(ADD_MEMBER, {"t": team, "u": b.name, "r": "MEMBER"}, a.key),
        api.gql(ADD_MEMBER, {"t": team, "u": a.name, "r": "MEMBER"}, b.key),
    )
    codes = sorted(
        r["errors"][0]["extensions"]["code"] if r.get("errors") else "OK" for r in results
    )
    # One demotion wins. The other is a CONFLICT (the last admin stays) when both requests
    # had signed in before either wrote, or FORBIDDEN when the winner had already
    # committed by the time the loser signed in (no longer an admin): both are right.
    assert codes in (["CONFLICT", "OK"], ["FORBIDDEN", "OK"]), results
    # whoever is left is an admin: one of them can still add members
    added = [
        await api.gql(ADD_MEMBER, {"t": team, "u": newcomer.name, "r": "MEMBER"}, who.key)
        for who in (a, b)
    ]
    assert sum(not r.get("errors") for r in added) == 1, added
