"""Runs (docs/semantics.md, "Runs"): resume modes, generated ids, auto-created projects, merging."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.fixtures.service import Api, unique

UPSERT = """mutation($i: UpsertRunInput!) {
  upsertRun(input: $i) { runId path name state config summary project { name visibility } }
}"""
UPDATE = """mutation($i: UpdateRunInput!) { updateRun(input: $i) { state config summary } }"""
CREATE_SWEEP = """mutation($i: CreateSweepInput!) {
  createSweep(input: $i) { sweepId path config project { name visibility } }
}"""
RUN = "query($p: String!) { run(path: $p) { runId state config summary sweep { sweepId } } }"


async def test_generated_run_ids_are_8_lowercase_letters_and_digits(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("a")
    project = unique("p")
    ids = set()
    for _ in range(5):
        data = await api.ok(UPSERT, {"i": {"project": project}}, alice.key)
        run_id = data["upsertRun"]["runId"]
        assert re.fullmatch(r"[a-z0-9]{8}", run_id), run_id
        assert data["upsertRun"]["path"] == f"{alice.name}/{project}/{run_id}"
        ids.add(run_id)
    assert len(ids) == 5


async def test_upsert_run_creates_the_project_private(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    project = unique("p")
    data = await api.ok(UPSERT, {"i": {"project": project, "runId": "r1"}}, alice.key)
    assert data["upsertRun"]["project"] == {"name": project, "visibility": "PRIVATE"}
    # the default entity is the viewer's own
    assert data["upsertRun"]["path"] == f"{alice.name}/{project}/r1"
    lookup = "query($e: String!, $n: String!) { project(entity: $e, name: $n) { name } }"
    assert (await api.ok(lookup, {"e": alice.name, "n": project}, bob.key))["project"] is None
    assert (await api.ok(lookup, {"e": alice.name, "n": project}))["project"] is None


async def test_create_sweep_creates_the_project_private_and_generates_an_id(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("a")
    project = unique("p")
    data = await api.ok(
        CREATE_SWEEP, {"i": {"project": project, "config": {"method": "grid"}}}, alice.key
    )
    sweep = data["createSweep"]
    assert sweep["project"] == {"name": project, "visibility": "PRIVATE"}
    assert re.fullmatch(r"[a-z0-9]{8}", sweep["sweepId"])
    assert sweep["path"] == f"{alice.name}/{project}/{sweep['sweepId']}"
    assert sweep["config"] == {"method": "grid"}
    again = {"i": {"project": project, "sweepId": sweep["sweepId"]}}
    assert await api.error(CREATE_SWEEP, again, alice.key) == "CONFLICT"


async def test_resume_never_refuses_an_existing_run(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    first = {"project": project, "runId": "r1", "config": {"lr": 0.1}}
    await api.ok(UPSERT, {"i": first}, alice.key)
    again = {"project": project, "runId": "r1", "config": {"lr": 0.5}}
    assert await api.error(UPSERT, {"i": again}, alice.key) == "CONFLICT"
    assert await api.error(UPSERT, {"i": {**again, "resume": "NEVER"}}, alice.key) == "CONFLICT"
    # the refused upsert changed nothing
    run = (await api.ok(RUN, {"p": f"{alice.name}/{project}/r1"}, alice.key))["run"]
    assert run["config"] == {"lr": 0.1}


async def test_resume_allow_continues_an_existing_run_without_losing_anything(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("a")
    project = unique("p")
    path = f"{alice.name}/{project}/r1"
    await api.ok(
        UPSERT,
        {
            "i": {
                "project": project,
                "runId": "r1",
                "name": "first",
                "config": {"lr": 0.1, "bs": 32},
            }
        },
        alice.key,
    )
    await api.ok(
        UPDATE, {"i": {"run": path, "summary": {"loss": 0.3}, "state": "CRASHED"}}, alice.key
    )

    resumed = await api.ok(
        UPSERT,
        {"i": {"project": project, "runId": "r1", "resume": "ALLOW", "config": {"bs": 64}}},
        alice.key,
    )
    run = resumed["upsertRun"]
    assert run["state"] == "RUNNING"
    assert run["name"] == "first"
    assert run["config"] == {"lr": 0.1, "bs": 64}
    assert run["summary"] == {"loss": 0.3}
    # ALLOW creates the run when it does not exist
    created = await api.ok(
        UPSERT, {"i": {"project": project, "runId": "r2", "resume": "ALLOW"}}, alice.key
    )
    assert created["upsertRun"]["runId"] == "r2"


async def test_resume_must_needs_an_existing_run(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    missing = {"project": project, "runId": "nope", "resume": "MUST"}
    assert await api.error(UPSERT, {"i": missing}, alice.key) == "NOT_FOUND"
    # MUST creates nothing, not even the project
    lookup = "query($e: String!, $n: String!) { project(entity: $e, name: $n) { name } }"
    assert (await api.ok(lookup, {"e": alice.name, "n": project}, alice.key))["project"] is None

    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1", "config": {"a": 1}}}, alice.key)
    assert await api.error(UPSERT, {"i": missing}, alice.key) == "NOT_FOUND"
    resumed = await api.ok(
        UPSERT, {"i": {"project": project, "runId": "r1", "resume": "MUST"}}, alice.key
    )
    assert resumed["upsertRun"]["config"] == {"a": 1}
    # without a runId there is nothing to resume
    assert (
        await api.error(UPSERT, {"i": {"project": project, "resume": "MUST"}}, alice.key)
        == "BAD_USER_INPUT"
    )


async def test_upsert_into_another_users_entity_is_refused(api: Api, make_user: Any) -> None:
    alice, bob = await make_user("a"), await make_user("b")
    hidden, missing = unique("p"), unique("p")
    await api.ok(UPSERT, {"i": {"project": hidden, "runId": "r1"}}, alice.key)
    # a private project and a missing one answer alike: the first's existence stays hidden
    for project in (hidden, missing):
        variables = {"i": {"entity": alice.name, "project": project, "runId": "x"}}
        assert await api.error(UPSERT, variables, bob.key) == "NOT_FOUND"
        sweep = {"i": {"entity": alice.name, "project": project, "sweepId": "s"}}
        assert await api.error(CREATE_SWEEP, sweep, bob.key) == "NOT_FOUND"
    lookup = "query($e: String!, $n: String!) { project(entity: $e, name: $n) { name } }"
    assert (await api.ok(lookup, {"e": alice.name, "n": missing}, alice.key))["project"] is None
    assert (await api.ok(RUN, {"p": f"{alice.name}/{hidden}/x"}, alice.key))["run"] is None
    # and an unknown entity is not found either
    nobody = {"i": {"entity": unique("ghost"), "project": "p"}}
    assert await api.error(UPSERT, nobody, bob.key) == "NOT_FOUND"


async def test_update_run_merges_keys_and_null_removes_one(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    path = f"{alice.name}/{project}/r1"
    await api.ok(
        UPSERT,
        {"i": {"project": project, "runId": "r1", "config": {"lr": 0.1, "bs": 32}}},
        alice.key,
    )

    data = await api.ok(
        UPDATE,
        {
            "i": {
                "run": path,
                "config": {"bs": None, "opt": {"name": "adam"}},
                "summary": {"acc": 0.5, "loss": 1.0},
            }
        },
        alice.key,
    )
    assert data["updateRun"]["config"] == {"lr": 0.1, "opt": {"name": "adam"}}
    assert data["updateRun"]["summary"] == {"acc": 0.5, "loss": 1.0}
    data = await api.ok(
        UPDATE, {"i": {"run": path, "summary": {"acc": 0.7, "loss": None}}}, alice.key
    )
    assert data["updateRun"]["summary"] == {"acc": 0.7}
    # omitted fields stay as they are
    data = await api.ok(UPDATE, {"i": {"run": path}}, alice.key)
    assert data["updateRun"] == {
        "state": "RUNNING",
        "config": {"lr": 0.1, "opt": {"name": "adam"}},
        "summary": {"acc": 0.7},
    }
    # a null key on creation is not stored either
    created = await api.ok(
        UPSERT, {"i": {"project": project, "runId": "r2", "config": {"a": None, "b": 2}}}, alice.key
    )
    assert created["upsertRun"]["config"] == {"b": 2}


@pytest.mark.parametrize("state", ["FINISHED", "FAILED", "CRASHED", "RUNNING"])
async def test_update_run_sets_the_state(api: Api, make_user: Any, state: str) -> None:
    alice = await make_user("a")
    project = unique("p")
    path = f"{alice.name}/{project}/r1"
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1"}}, alice.key)
    assert (await api.ok(UPDATE, {"i": {"run": path, "state": state}}, alice.key))["updateRun"][
        "state"
    ] == state
    assert (await api.ok(RUN, {"p": path}, alice.key))["run"]["state"] == state


async def test_unknown_state_is_bad_input(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1"}}, alice.key)
    assert (
        await api.error(
            UPDATE, {"i": {"run": f"{alice.name}/{project}/r1", "state": "DONE"}}, alice.key
        )
        == "BAD_USER_INPUT"
    )


@pytest.mark.parametrize(
    "value", [[1, 2], "text", 3, True], ids=["list", "string", "number", "bool"]
)
async def test_config_and_summary_must_be_objects(api: Api, make_user: Any, value: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    path = f"{alice.name}/{project}/r1"
    assert (
        await api.error(
            UPSERT, {"i": {"project": project, "runId": "r1", "config": value}}, alice.key
        )
        == "BAD_USER_INPUT"
    )
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1", "config": {"a": 1}}}, alice.key)
    assert (
        await api.error(UPDATE, {"i": {"run": path, "config": value}}, alice.key)
        == "BAD_USER_INPUT"
    )
    assert (
        await api.error(UPDATE, {"i": {"run": path, "summary": value}}, alice.key)
        == "BAD_USER_INPUT"
    )
    assert (
        await api.error(CREATE_SWEEP, {"i": {"project": project, "config": value}}, alice.key)
        == "BAD_USER_INPUT"
    )
    run = (await api.ok(RUN, {"p": path}, alice.key))["run"]
    assert run["config"] == {"a": 1}
    assert run["summary"] == {}


async def test_text_the_database_cannot_store_is_bad_input(api: Api, make_user: Any) -> None:
    """A NUL character in a name, a key or a string value is the client's to fix."""
    alice = await make_user("a")
    project = unique("p")
    path = f"{alice.name}/{project}/r1"
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1"}}, alice.key)
    for bad in (
        {"i": {"project": project, "runId": "r2", "name": "a\x00b"}},
        {"i": {"project": project, "runId": "r2", "config": {"k": "a\x00b"}}},
        {"i": {"project": project, "runId": "r2", "config": {"k\x00": 1}}},
    ):
        assert await api.error(UPSERT, bad, alice.key) == "BAD_USER_INPUT"
    assert (
        await api.error(UPDATE, {"i": {"run": path, "summary": {"s": ["\x00"]}}}, alice.key)
        == "BAD_USER_INPUT"
    )
    assert (
        await api.error(CREATE_SWEEP, {"i": {"project": project, "name": "\x00"}}, alice.key)
        == "BAD_USER_INPUT"
    )
    assert (await api.ok(RUN, {"p": f"{alice.name}/{project}/r2"}, alice.key))["run"] is None


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-1e400"])
async def test_non_finite_numbers_are_bad_input(api: Api, make_user: Any, number: str) -> None:
    """Python's JSON parser lets NaN and infinities through; jsonb cannot store them."""
    alice = await make_user("a")
    path = f"{alice.name}/{unique('p')}/r1"
    project = path.split("/")[1]
    await api.ok(UPSERT, {"i": {"project": project, "runId": "r1"}}, alice.key)
    query = "mutation($r: String!, $s: JSON) { updateRun(input: {run: $r, summary: $s}) { id } }"
    # json.dumps would refuse to write the number: splice it in as the client's text
    body = json.dumps({"query": query, "variables": {"r": path, "s": {"x": "NUMBER"}}})
    body = body.replace('"NUMBER"', number)
    response = await api.http.post(
        "/graphql",
        content=body,
        headers={"authorization": f"Bearer {alice.key}", "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api.ok(RUN, {"p": path}, alice.key))["run"]["summary"] == {}


async def test_a_run_joins_a_sweep_of_its_project(api: Api, make_user: Any) -> None:
    alice = await make_user("a")
    project = unique("p")
    await api.ok(CREATE_SWEEP, {"i": {"project": project, "sweepId": "s1"}}, alice.key)
    data = await api.ok(
        UPSERT, {"i": {"project": project, "runId": "r1", "sweep": "s1"}}, alice.key
    )
    assert data["upsertRun"]["runId"] == "r1"
    run = (await api.ok(RUN, {"p": f"{alice.name}/{project}/r1"}, alice.key))["run"]
    assert run["sweep"] == {"sweepId": "s1"}
    # a sweep of another project is not found
    other = unique("p")
    variables = {"i": {"project": other, "runId": "r1", "sweep": "s1"}}
    assert await api.error(UPSERT, variables, alice.key) == "NOT_FOUND"
    assert (await api.ok(RUN, {"p": f"{alice.name}/{other}/r1"}, alice.key))["run"] is None
