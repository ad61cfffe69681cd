"""A lineage answer reads only the columns its nodes' fields need
(resolvers/lineage/fields.py RUN_FIELDS / ARTIFACT_FIELDS): each field, selected alone on
the graph's nodes, answers what the same node loaded whole (``node(id)``) answers."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.lineage.fields import ARTIFACT_FIELDS, RUN_FIELDS
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

# how to select each field that has fields of its own
SUBSELECTIONS = {
    "project": "{ name }",
    "sweep": "{ sweepId }",
    "loggedArtifacts": "{ totalCount }",
    "usedArtifacts": "{ totalCount }",
    "lineage": "(depth: 1, limit: 10) { nodes { __typename } }",
    "collection": "{ name }",
    "manifest": "{ entries { totalCount } }",
    "loggedBy": "{ runId }",
    "usedBy": "{ totalCount }",
}


async def seeded(api: Api, user: Any) -> Lab:
    """A run in a sweep with config and summary -> a described, aliased dataset with
    metadata and a TTL -> a run using it, which logs a model."""
    lab = await Lab.open(api, user)
    await api.ok(
        'mutation($p: String!) { createSweep(input: {project: $p, sweepId: "sw"}) { id } }',
        {"p": lab.project},
        user.key,
    )
    await api.ok(
        """mutation($p: String!, $r: String!) {
             a: upsertRun(input: {project: $p, runId: "prep", name: "Prep", sweep: "sw",
                                  config: {lr: 0.1}}) { id }
             b: updateRun(input: {run: $r, summary: {acc: 0.9}, state: FINISHED}) { id } }""",
        {"p": lab.project, "r": lab.run_path("prep")},
        user.key,
    )
    lab.run("train")
    await lab.flush()
    await api.ok(
        """mutation($r: String!) { logArtifact(input: {run: $r, name: "ds", type: "dataset",
             description: "the data", metadata: {rows: 3}, aliases: ["best"],
             ttlDurationSeconds: 86400,
             entries: [{path: "f", ref: "s3://lab/ds", checksum: false}]}) { artifact { id } } }""",
        {"r": lab.run_path("prep")},
        user.key,
    )
    lab.use("train", lab.art("ds")).log("train", "model", type_="model")
    await lab.flush()
    return lab


def selection(name: str) -> str:
    return f"{name} {SUBSELECTIONS.get(name, '')}"


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Run", n) for n in RUN_FIELDS if n != "__typename"]
    + [("Artifact", n) for n in ARTIFACT_FIELDS if n != "__typename"],
)
async def test_each_field_alone_answers_as_the_whole_row(
    api: Api, make_user: Any, kind: str, name: str
) -> None:
    user = await make_user("col")
    lab = await seeded(api, user)
    field = selection(name)
    graph = await api.ok(
        f"""query($p: String!) {{ artifact(path: $p) {{
              lineage(direction: BOTH, depth: 4, limit: 50) {{
                nodes {{ __typename ... on Node {{ id }} ... on {kind} {{ {field} }} }} }} }} }}""",
        {"p": lab.art("ds")},
        user.key,
    )
    nodes = [n for n in graph["artifact"]["lineage"]["nodes"] if n["__typename"] == kind]
    assert len(nodes) == 2  # prep and train, or ds and model
    for node in nodes:
        whole = await api.ok(
            f"query($id: ID!) {{ node(id: $id) {{ ... on {kind} {{ {field} }} }} }}",
            {"id": node["id"]},
            user.key,
        )
        key = name
        assert node[key] == whole["node"][key], (kind, name)
    if name not in ("sweep", "aliases", "description", "metadata", "ttlDurationSeconds",
                    "expiresAt", "config", "summary", "name"):  # fmt: skip
        assert all(node[name] is not None for node in nodes), (kind, name)


async def test_a_field_nobody_listed_reads_the_whole_row() -> None:
    from resolvers.lineage.fields import _read
    from server.domain import graph, node_rows

    everything = node_rows.NODE_FIELDS[graph.RUN]
    assert _read({"runId"}, RUN_FIELDS, ARTIFACT_FIELDS, everything) == {"run_id"}
    # a field of the other kind adds nothing; an unknown one reads everything
    assert _read({"runId", "digest"}, RUN_FIELDS, ARTIFACT_FIELDS, everything) == {"run_id"}
    assert _read({"runId", "brandNew"}, RUN_FIELDS, ARTIFACT_FIELDS, everything) == everything
