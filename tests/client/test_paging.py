"""Lazy lists page through connections: one request per page, ``len()`` from totalCount,
indexing fetches only the pages it needs; a page brings everything its items show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import lineage
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account, unique

CONSUMERS = 120


def count_requests(api: lineage.Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The GraphQL documents this Api sends from now on."""
    sent: list[str] = []
    real = api.transport.graphql

    def spy(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        sent.append(query)
        return real(query, variables)

    monkeypatch.setattr(api.transport, "graphql", spy)
    return sent


def test_used_by_pages_lazily_over_120_consumers(
    server: ServeProcess, account: Account, api: lineage.Api, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    project = unique("p")
    (tmp_path / "data.txt").write_text(project)
    with lineage.init(project=project, base_url=server.url, api_key=account.key) as run:
        artifact = lineage.Artifact("popular", "dataset")
        artifact.add_file(tmp_path / "data.txt")
        run.log_artifact(artifact)
    # 120 runs that use it, in one request (mutations run in order)
    fields = "\n".join(
        f'r{i}: upsertRun(input: {{project: "{project}", runId: "c{i:03d}", config: {{i: {i}}}}}) {{ id }}\n'
        f'u{i}: useArtifact(input: {{run: "{account.name}/{project}/c{i:03d}", artifact: "popular:v0"}}) {{ id }}'
        for i in range(CONSUMERS)
    )
    api.graphql(f"mutation {{ {fields} }}")

    found = api.artifact(f"{project}/popular:v0")
    sent = count_requests(api, monkeypatch)
    consumers = found.used_by()
    assert sent == []  # nothing asked yet

    assert len(consumers) == CONSUMERS
    assert len(sent) == 1  # the first page brought totalCount
    assert consumers[5].run_id == "c005"
    assert consumers[5].config == {"i": 5}  # in the page, not a request per run
    assert len(sent) == 1
    assert consumers[110].run_id == "c110"
    assert len(sent) == 2  # the second page
    assert [r.run_id for r in consumers] == [f"c{i:03d}" for i in range(CONSUMERS)]
    assert consumers[-1].run_id == f"c{CONSUMERS - 1:03d}"
    assert [r.run_id for r in consumers[118:]] == ["c118", "c119"]
    assert len(sent) == 2  # iterating and slicing reuse what was fetched

    # a fresh list iterated straight through: two pages, no request per item
    sent.clear()
    states = [(r.run_id, r.state, r.summary) for r in found.used_by()]
    assert len(states) == CONSUMERS
    assert len(sent) == 2


def test_project_runs_and_artifacts_lists(
    server: ServeProcess, account: Account, api: lineage.Api, tmp_path: Path,
) -> None:  # fmt: skip
    project = unique("p")
    for index, acc in enumerate([0.2, 0.8, 0.5]):
        with lineage.init(
            project=project, id=f"r{index}", base_url=server.url, api_key=account.key
        ) as run:
            run.summary.update(acc=acc, epoch=index)
            artifact = lineage.Artifact(
                "scores" if index < 2 else "model", "dataset" if index < 2 else "model"
            )
            with artifact.new_file("s.txt") as out:
                out.write(f"{project} {index}")
            run.log_artifact(artifact)

    assert [r.run_id for r in api.runs(project)] == ["r2", "r1", "r0"]  # newest first
    assert [r.run_id for r in api.runs(project, order="-summary.acc")] == ["r1", "r2", "r0"]
    assert [r.run_id for r in api.runs(project, order="summary.acc")] == ["r0", "r2", "r1"]
    latest = {a.name: a.version for a in api.artifacts(project)}
    assert latest == {"scores": "v1", "model": "v0"}
    assert [a.name for a in api.artifacts(project, type="model")] == ["model"]
    assert [a.version for a in api.artifact_versions(f"{project}/scores")] == ["v1", "v0"]
    assert api.project(project).path == f"{account.name}/{project}"


def test_config_and_summary_writes_reach_the_server(
    server: ServeProcess, account: Account, api: lineage.Api
) -> None:
    project = unique("p")
    with lineage.init(
        project=project, id="r", config={"lr": 0.1}, base_url=server.url, api_key=account.key
    ) as run:
        run.config["batch"] = 32
        run.summary.update({"loss": 0.5, "acc": 0.9})
        del run.summary["acc"]
    seen = api.run(f"{project}/r")
    assert dict(seen.config) == {"lr": 0.1, "batch": 32}
    assert dict(seen.summary) == {"loss": 0.5}
    assert seen.state == "FINISHED"


def test_a_run_context_marks_the_run_failed_on_an_exception(
    server: ServeProcess, account: Account, api: lineage.Api
) -> None:
    project = unique("p")
    with (  # noqa: PT012 - the exception must leave the run's block
        pytest.raises(RuntimeError),
        lineage.init(project=project, id="r", base_url=server.url, api_key=account.key),
    ):
        raise RuntimeError("training diverged")
    assert api.run(f"{project}/r").state == "FAILED"


def test_lineage_graph_nodes_load_json_documents_on_demand(
    server: ServeProcess, account: Account, api: lineage.Api, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    project = unique("p")
    with lineage.init(
        project=project, id="maker", config={"seed": 7}, base_url=server.url, api_key=account.key
    ) as run:
        artifact = lineage.Artifact("out", "dataset", metadata={"rows": 3})
        with artifact.new_file("x") as out:
            out.write(project)
        run.log_artifact(artifact)
    found = api.artifact(f"{project}/out:latest")
    sent = count_requests(api, monkeypatch)
    graph = found.lineage(direction="upstream", depth=2)
    assert len(sent) == 1
    (maker,) = [n for n in graph.nodes if isinstance(n, lineage.Run)]
    assert maker.run_id == "maker"
    assert maker.state == "FINISHED"
    assert len(sent) == 1
    assert maker.config == {"seed": 7}  # not in the graph query: loaded by id
    assert len(sent) == 2
    assert graph.predecessors(found) == [maker]
    assert [(e.source, e.target, e.kind) for e in graph.edges] == [(maker, found, "LOGGED")]


def test_a_run_left_open_is_finished_at_exit_and_failed_after_an_uncaught_exception(
    account: Account, api: lineage.Api, run_client: Any, tmp_path: Path
) -> None:
    import sys

    project = unique("p")
    script = tmp_path / "open_run.py"
    script.write_text(
        "import sys, lineage\n"
        "lineage.init(project=sys.argv[1], id=sys.argv[2])\n"
        "if sys.argv[3] == 'raise':\n"
        "    raise SystemError('boom')\n"
    )
    clean = run_client([sys.executable, str(script), project, "clean", "ok"], account.key, tmp_path)
    assert clean.returncode == 0, clean.stderr
    crashed = run_client(
        [sys.executable, str(script), project, "crash", "raise"], account.key, tmp_path
    )
    assert crashed.returncode == 1
    assert "SystemError: boom" in crashed.stderr
    assert api.run(f"{project}/clean").state == "FINISHED"
    assert api.run(f"{project}/crash").state == "FAILED"
