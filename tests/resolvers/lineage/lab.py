"""Building lineage graphs through the API, quickly: many mutations per request.

A ``Lab`` is one user's project. Writes are queued and sent as one GraphQL mutation
document with aliased fields (executed in order, like separate requests), so a graph of
hundreds of edges needs a handful of HTTP round trips. Artifact versions get distinct
contents cheaply from an unchecked reference entry (``checksum: false`` records the URI
only), so every log commits at once without an upload.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fixtures.service import Api, unique

NODE = "__typename ... on Node { id } ... on Run { runId path } ... on Artifact { name version path state }"
GRAPH = f"nodes {{ {NODE} }} edges {{ source target kind }} truncated"
CREATE_PROJECT = """mutation($e: String!, $n: String!, $v: Visibility!) {
  createProject(input: {entity: $e, name: $n, visibility: $v}) { id } }"""


def _lit(value: Any) -> str:
    """A GraphQL literal for a str/int/bool/None or a flat input object."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


@dataclass
class Lab:
    api: Api
    key: str
    entity: str
    project: str
    _ops: list[str] = field(default_factory=list)

    @classmethod
    async def open(
        cls, api: Api, user: Any, visibility: str = "PRIVATE", entity: str | None = None
    ) -> Lab:
        project = unique("lp")
        await api.ok(
            CREATE_PROJECT, {"e": entity or user.name, "n": project, "v": visibility}, user.key
        )
        return cls(api, user.key, entity or user.name, project)

    def run_path(self, run_id: str) -> str:
        return f"{self.entity}/{self.project}/{run_id}"

    def art(self, name: str, version: str = "v0") -> str:
        return f"{self.entity}/{self.project}/{name}:{version}"

    # queued writes

    def run(self, *run_ids: str) -> Lab:
        for r in run_ids:
            inp = {"entity": self.entity, "project": self.project, "runId": r}
            self._ops.append(f"upsertRun(input: {_lit(inp)}) {{ id }}")
        return self

    def log(
        self,
        run_id: str,
        name: str,
        type_: str = "dataset",
        content: str | None = None,
        run: str | None = None,
    ) -> Lab:
        """``run_id`` logs a new version of ``name`` (distinct content unless ``content``)."""
        ref = f"s3://lab/{content or uuid.uuid4().hex}"
        inp = {"run": run or self.run_path(run_id), "name": name, "type": type_,
               "entries": [{"path": "f", "ref": ref, "checksum": False}]}  # fmt: skip
        self._ops.append(f"logArtifact(input: {_lit(inp)}) {{ deduplicated artifact {{ id }} }}")
        return self

    def use(self, run_id: str, artifact_path: str, run: str | None = None) -> Lab:
        inp = {"run": run or self.run_path(run_id), "artifact": artifact_path}
        self._ops.append(f"useArtifact(input: {_lit(inp)}) {{ id }}")
        return self

    async def flush(
        self, key: str | None = None, chunk: int = 200, parallel: bool = False
    ) -> list[Any]:
        """Send the queued writes in order; returns each one's result.

        ``parallel`` sends the chunks at once: only for writes that do not depend on each
        other (runs to create, then in a later flush the uses and logs on them).
        """
        ops, self._ops = self._ops, []
        parts = [ops[start : start + chunk] for start in range(0, len(ops), chunk)]

        async def send(part: list[str]) -> list[Any]:
            doc = "mutation {\n" + "\n".join(f"m{i}: {op}" for i, op in enumerate(part)) + "\n}"
            data = await self.api.ok(doc, key=key or self.key)
            return [data[f"m{i}"] for i in range(len(part))]

        if parallel:
            results = await asyncio.gather(*(send(p) for p in parts))
        else:
            results = [await send(p) for p in parts]
        return [r for part in results for r in part]

    # reads

    async def ids(self, *paths: str) -> dict[str, str]:
        """Global ids by path (run paths or artifact paths)."""
        fields = []
        for i, p in enumerate(paths):
            kind = "artifact" if ":" in p else "run"
            fields.append(f"x{i}: {kind}(path: {json.dumps(p)}) {{ id }}")
        data = await self.api.ok("query {" + " ".join(fields) + "}", key=self.key)
        return {p: data[f"x{i}"]["id"] for i, p in enumerate(paths)}

    async def lineage(self, path: str, direction: str = "BOTH", depth: int = 1, limit: int = 1000,
                      key: str | None = "self") -> dict[str, Any]:  # fmt: skip
        kind = "artifact" if ":" in path else "run"
        q = f"""query($p: String!) {{ x: {kind}(path: $p) {{
            lineage(direction: {direction}, depth: {depth}, limit: {limit}) {{ {GRAPH} }} }} }}"""
        data = await self.api.ok(q, {"p": path}, key=self.key if key == "self" else key)
        graph: dict[str, Any] = data["x"]["lineage"]
        return graph


def labels(graph: dict[str, Any]) -> list[str]:
    """Nodes as "run:<runId>" / "art:<name>:<version>", in the order returned."""
    return [f"run:{n['runId']}" if n["__typename"] == "Run" else f"art:{n['name']}:{n['version']}"
            for n in graph["nodes"]]  # fmt: skip


def check_graph_shape(graph: dict[str, Any]) -> None:
    """Each node once, each edge once, every edge between returned nodes and well-typed."""
    ids = [n["id"] for n in graph["nodes"]]
    assert len(ids) == len(set(ids)), labels(graph)
    kinds = {n["id"]: n["__typename"] for n in graph["nodes"]}
    edges = [(e["source"], e["target"], e["kind"]) for e in graph["edges"]]
    assert len(edges) == len(set(edges)), edges
    for source, target, kind in edges:
        assert source in kinds, (source, target, kind)
        assert target in kinds, (source, target, kind)
        expected = ("Run", "Artifact") if kind == "LOGGED" else ("Artifact", "Run")
        assert (kinds[source], kinds[target]) == expected, (source, target, kind)


def edge_labels(graph: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Edges as (source label, kind, target label)."""
    by_id = dict(zip((n["id"] for n in graph["nodes"]), labels(graph), strict=True))
    return {(by_id[e["source"]], e["kind"], by_id[e["target"]]) for e in graph["edges"]}


async def small_pipeline(api: Api, user: Any) -> Lab:
    """prep -> raw -> train -> model v0, v1; eval and audit use model v0, audit raw too."""
    lab = await Lab.open(api, user)
    lab.run("prep", "train", "eval", "audit").log("prep", "raw").use("train", lab.art("raw"))
    lab.log("train", "model", "model").log("train", "model", "model").use("eval", lab.art("model"))
    lab.use("audit", lab.art("model", "v0")).use("audit", lab.art("raw"))
    await lab.flush()
    return lab
