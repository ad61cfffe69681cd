"""Every GraphQL error code becomes its typed exception, with the server's message and
the request id of the answer."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import lineage
from tests.client.serve import ServeProcess, free_port
from tests.fixtures.service import Account, unique

REQUEST_ID = re.compile(r"[0-9a-f]{16}")


def test_not_found(api: lineage.Api) -> None:
    with pytest.raises(lineage.NotFound, match="not found") as caught:
        api.artifact(f"{unique('p')}/nothing:latest")
    assert caught.value.code == "NOT_FOUND"


def test_unauthenticated_with_a_wrong_key(server: ServeProcess) -> None:
    api = lineage.Api(base_url=server.url, api_key="lin_wrong_key")
    with pytest.raises(lineage.Unauthenticated) as caught:
        api.run("someone/project/run")
    assert REQUEST_ID.fullmatch(caught.value.request_id or "")
    assert (caught.value.request_id or "?") in str(caught.value)


def test_unauthenticated_write_without_a_key(server: ServeProcess) -> None:
    with pytest.raises(lineage.Unauthenticated):
        lineage.init(project="p", entity="someone", base_url=server.url)


async def test_forbidden_writing_to_a_readable_project(
    server: ServeProcess, make_account: Callable[..., Awaitable[Account]]
) -> None:
    owner, other = await make_account(), await make_account()
    project = unique("p")
    lineage.Api(base_url=server.url, api_key=owner.key).graphql(
        "mutation($e: String!, $n: String!) { createProject(input: {entity: $e, name: $n, visibility: PUBLIC}) { id } }",
        {"e": owner.name, "n": project},
    )
    with pytest.raises(lineage.Forbidden, match="not change it"):
        lineage.init(project=project, entity=owner.name, base_url=server.url, api_key=other.key)


def test_conflict_on_a_second_type(server: ServeProcess, account: Account, tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    with lineage.init(project=unique("p"), base_url=server.url, api_key=account.key) as run:
        first = lineage.Artifact("thing", "dataset")
        first.add_file(tmp_path / "a")
        run.log_artifact(first)
        second = lineage.Artifact("thing", "model")
        second.add_file(tmp_path / "a")
        with pytest.raises(lineage.Conflict, match="has type 'dataset'"):
            run.log_artifact(second)


def test_resume_never_on_an_existing_run_is_a_conflict(
    server: ServeProcess, account: Account
) -> None:
    project = unique("p")
    lineage.init(project=project, id="once", base_url=server.url, api_key=account.key).finish()
    with pytest.raises(lineage.Conflict):
        lineage.init(project=project, id="once", base_url=server.url, api_key=account.key)


def test_bad_input(server: ServeProcess, account: Account) -> None:
    with pytest.raises(lineage.BadInput, match="project name"):
        lineage.init(project="no spaces allowed", base_url=server.url, api_key=account.key)


def test_bad_input_is_raised_before_anything_is_sent(tmp_path: Path) -> None:
    artifact = lineage.Artifact("a", "dataset")
    with pytest.raises(lineage.BadInput, match="is not a file"):
        artifact.add_file(tmp_path / "missing")
    with (
        pytest.raises(lineage.BadInput, match="relative POSIX path"),
        artifact.new_file("../escape.txt") as out,
    ):
        out.write("x")


def test_query_too_complex(api: lineage.Api) -> None:
    deep = "{ viewer { teams { projects(first: 1000) { edges { node { runs(first: 1000) { edges { node { id } } } } } } } } }"
    with pytest.raises(lineage.QueryTooComplex):
        api.graphql(deep)


def test_payload_too_large(api: lineage.Api) -> None:
    with pytest.raises(lineage.PayloadTooLarge):
        api.graphql("query($x: String) { viewer { username } }", {"x": "x" * (33 * 1024 * 1024)})


def test_unavailable_when_nothing_answers() -> None:
    api = lineage.Api(base_url=f"http://127.0.0.1:{free_port()}", api_key="lin_x")
    with pytest.raises(lineage.Unavailable, match="failed after 5 attempts"):
        api.run("a/b/c")


def test_every_error_is_a_lineage_error() -> None:
    for cls in (lineage.NotFound, lineage.Forbidden, lineage.Unauthenticated, lineage.Conflict,
                lineage.BadInput, lineage.Unavailable, lineage.ServerError, lineage.TransferError):  # fmt: skip
        assert issubclass(cls, lineage.LineageError)
