"""User aliases: moving between versions, case-insensitive uniqueness, reserved and invalid names.

Aliases live in the database only, so these run on the folder store alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.artifacts import (
    ALIASES,
    artifact,
    content,
    log_and_commit,
    log_artifact,
    new_run,
    versions,
)
from tests.fixtures.service import Api


async def two_versions(api: Api, key: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    run = await new_run(api, key)
    v0 = await log_and_commit(api, key, run, "ds", {"f": content("0")})
    v1 = await log_and_commit(api, key, run, "ds", {"f": content("1")})
    return run, v0, v1


async def aliases_of(api: Api, key: str, run: str) -> dict[str, list[str]]:
    return {v["version"]: sorted(v["aliases"]) for v in await versions(api, key, run, "ds")}


async def test_aliases_move_between_versions(api: Api, make_user: Any) -> None:
    user = await make_user()
    run, v0, v1 = await two_versions(api, user.key)
    data = await api.ok(ALIASES, {"id": v0["id"], "add": ["best", "prod"]}, key=user.key)
    assert sorted(data["updateArtifactAliases"]["aliases"]) == ["best", "prod"]
    assert await aliases_of(api, user.key, run) == {"v1": ["latest"], "v0": ["best", "prod"]}

    await api.ok(ALIASES, {"id": v1["id"], "add": ["best"]}, key=user.key)
    assert await aliases_of(api, user.key, run) == {"v1": ["best", "latest"], "v0": ["prod"]}
    assert (await artifact(api, user.key, run, "ds", "best"))["id"] == v1["id"]  # type: ignore[index]

    await api.ok(ALIASES, {"id": v0["id"], "remove": ["prod"], "add": ["old"]}, key=user.key)
    assert await aliases_of(api, user.key, run) == {"v1": ["best", "latest"], "v0": ["old"]}
    assert await artifact(api, user.key, run, "ds", "prod") is None
    # removing an alias the version does not have is a no-op, not a theft
    await api.ok(ALIASES, {"id": v0["id"], "remove": ["best"]}, key=user.key)
    assert await aliases_of(api, user.key, run) == {"v1": ["best", "latest"], "v0": ["old"]}


async def test_aliases_match_regardless_of_case(api: Api, make_user: Any) -> None:
    user = await make_user()
    run, v0, v1 = await two_versions(api, user.key)
    await api.ok(ALIASES, {"id": v0["id"], "add": ["Best"]}, key=user.key)
    for spelling in ("Best", "best", "BEST"):
        found = await artifact(api, user.key, run, "ds", spelling)
        assert found is not None
        assert found["id"] == v0["id"]
    # another spelling on another version takes the alias over: one per collection
    await api.ok(ALIASES, {"id": v1["id"], "add": ["BEST"]}, key=user.key)
    assert await aliases_of(api, user.key, run) == {"v1": ["BEST", "latest"], "v0": []}
    # two spellings in one request count once
    data = await api.ok(ALIASES, {"id": v0["id"], "add": ["x", "X"]}, key=user.key)
    assert sorted(data["updateArtifactAliases"]["aliases"]) == ["x"]
    # removal matches regardless of case too
    await api.ok(ALIASES, {"id": v1["id"], "remove": ["best"]}, key=user.key)
    assert await aliases_of(api, user.key, run) == {"v1": ["latest"], "v0": ["x"]}
    # "LATEST" as a lookup is latest, whatever the case
    assert (await artifact(api, user.key, run, "ds", "LATEST"))["id"] == v1["id"]  # type: ignore[index]


RESERVED = ["latest", "LATEST", "Latest", "v3", "V3", "v0", "v123456789012"]
INVALID = ["a/b", "a:b", "", "x" * 129, "tab\there", "line\nbreak", "nul\x00"]


@pytest.mark.parametrize("alias", RESERVED + INVALID)
async def test_reserved_and_invalid_aliases_are_refused(
    api: Api, make_user: Any, alias: str
) -> None:
    user = await make_user()
    run, v0, _ = await two_versions(api, user.key)
    assert (
        await api.error(ALIASES, {"id": v0["id"], "add": [alias]}, key=user.key) == "BAD_USER_INPUT"
    )
    assert (
        await api.error(ALIASES, {"id": v0["id"], "add": ["ok", alias]}, key=user.key)
        == "BAD_USER_INPUT"
    )
    assert await aliases_of(api, user.key, run) == {"v1": ["latest"], "v0": []}  # nothing applied


@pytest.mark.parametrize("alias", ["v3", "a/b", "a:b", ""])
async def test_logging_with_a_reserved_or_invalid_alias_is_refused(
    api: Api, make_user: Any, alias: str
) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    body = await api.gql(
        """mutation($i: LogArtifactInput!) { logArtifact(input: $i) { deduplicated } }""",
        {
            "i": {
                "run": run,
                "name": "ds",
                "type": "t",
                "aliases": [alias],
                "entries": [{"path": "f", "digest": "0" * 64, "size": 1}],
            }
        },  # fmt: skip
        key=user.key,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await versions(api, user.key, run, "ds") == []


async def test_latest_in_log_aliases_is_harmless(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    files = {"f": content()}
    payload = await log_artifact(api, user.key, run, "ds", files, aliases=["latest", "mine"])
    assert payload["artifact"]["state"] == "PENDING"
    committed = await log_and_commit(api, user.key, run, "ds", {"g": content()}, aliases=["Latest"])
    assert committed["aliases"] == ["latest"]


async def test_alias_added_and_removed_at_once_is_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run, v0, _ = await two_versions(api, user.key)
    body = await api.gql(ALIASES, {"id": v0["id"], "add": ["a"], "remove": ["A"]}, key=user.key)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_pending_and_deleted_versions_take_no_aliases(api: Api, make_user: Any) -> None:
    user = await make_user()
    run, v0, _ = await two_versions(api, user.key)
    pending = await log_artifact(api, user.key, run, "ds", {"p": content()})
    assert (
        await api.error(ALIASES, {"id": pending["artifact"]["id"], "add": ["a"]}, key=user.key)
        == "CONFLICT"
    )
    await api.ok(
        "mutation($id: ID!) { deleteArtifact(id: $id) { state } }", {"id": v0["id"]}, key=user.key
    )
    assert await api.error(ALIASES, {"id": v0["id"], "add": ["a"]}, key=user.key) == "CONFLICT"
    assert await artifact(api, user.key, run, "ds", "a") is None
