"""Seeding a running service through its public API, as a client would: a seed-shaped
pipeline (dataset -> train runs -> models -> eval runs -> reports) of any width.

Mutations go in batches of aliased fields (one request per batch, executed in order), so
a 10,000-node graph loads in seconds; bench/web.py uses this too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

BATCH = 100


@dataclass
class Client:
    url: str
    key: str

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": f"Bearer {self.key}"},
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def batch(
        self, field: str, input_type: str, inputs: Sequence[dict[str, Any]], select: str
    ) -> list[Any]:
        """Runs ``field(input: ...)`` once per input, BATCH aliased calls per request."""
        results: list[Any] = []
        for start in range(0, len(inputs), BATCH):
            chunk = inputs[start : start + BATCH]
            params = ", ".join(f"$i{n}: {input_type}!" for n in range(len(chunk)))
            fields = " ".join(
                f"m{n}: {field}(input: $i{n}) {{ {select} }}" for n in range(len(chunk))
            )
            data = self.gql(
                f"mutation({params}) {{ {fields} }}", {f"i{n}": v for n, v in enumerate(chunk)}
            )
            results += [data[f"m{n}"] for n in range(len(chunk))]
        return results


def _entry(path: str, content: bytes) -> dict[str, Any]:
    return {"path": path, "digest": hashlib.sha256(content).hexdigest(), "size": len(content)}


def log_artifacts(
    client: Client, logs: Sequence[dict[str, Any]], files: dict[str, bytes]
) -> list[dict[str, Any]]:
    """``logArtifact`` for each input (their entries name paths in ``files``), uploading
    and committing whatever the service does not hold yet."""
    inputs = [{**log, "entries": [_entry(p, files[p]) for p in log["entries"]]} for log in logs]
    logged = client.batch(
        "logArtifact",
        "LogArtifactInput",
        inputs,
        "uploads { path url headers } artifact { id path state }",
    )
    pending = []
    for answer in logged:
        for upload in answer["uploads"]:
            httpx.put(
                upload["url"], content=files[upload["path"]], headers=upload["headers"], timeout=60
            ).raise_for_status()
        if answer["artifact"]["state"] == "PENDING":
            pending.append(answer["artifact"]["id"])
    committed: dict[str, dict[str, Any]] = {}
    for start in range(0, len(pending), BATCH):
        chunk = pending[start : start + BATCH]
        fields = " ".join(
            f'c{n}: commitArtifact(id: "{i}") {{ id path state }}' for n, i in enumerate(chunk)
        )
        data = client.gql(f"mutation {{ {fields} }}")
        committed.update({i: data[f"c{n}"] for n, i in enumerate(chunk)})
    # a pending version's path names no version yet: the commit's answer does
    return [committed.get(a["artifact"]["id"], a["artifact"]) for a in logged]


def upsert_runs(client: Client, entity: str, project: str, runs: Iterable[dict[str, Any]]) -> None:
    client.batch(
        "upsertRun",
        "UpsertRunInput",
        [{"entity": entity, "project": project, "resume": "ALLOW", **run} for run in runs],
        "id",
    )


def use_artifacts(client: Client, uses: Sequence[tuple[str, str]]) -> None:
    client.batch(
        "useArtifact", "UseArtifactInput", [{"run": r, "artifact": a} for r, a in uses], "id"
    )


@dataclass
class Pipeline:
    entity: str
    project: str
    dataset: str  # artifact path of the dataset version
    models: list[str]  # artifact paths, one per train run
    train_runs: list[str]  # run paths
    eval_runs: list[str]

    @property
    def node_count(self) -> int:
        # prep + dataset + trains + models + evals + one report per eval
        return 2 + 2 * len(self.models) + 2 * len(self.eval_runs)


def _letters(n: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": names without digits, so none share a stem."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[digit] + out
        if n == 0:
            return out


def seed_pipeline(
    client: Client,
    entity: str,
    project: str,
    *,
    trains: int,
    evals_per_model: int = 1,
    distinct_names: bool = False,
) -> Pipeline:
    """prep -> dataset -> train-i -> model:v(i) -> eval-i-j -> report (one per eval).
    Run names end in numbers ("train-3"), which the web app groups into clusters;
    ``distinct_names`` ends them in letters instead, so no two runs look alike."""
    upsert_runs(client, entity, project, [{"runId": "prep", "name": "prep"}])
    files = {"train.csv": b"x,y\n1,2\n", "test.csv": b"x,y\n3,4\n"}
    [dataset] = log_artifacts(
        client,
        [
            {
                "run": f"{entity}/{project}/prep",
                "name": "mnist",
                "type": "dataset",
                "aliases": ["golden"],
                "description": "MNIST, small",
                "metadata": {"rows": 2, "source": "seed"},
                "entries": list(files),
            }
        ],
        files,
    )
    suffix = _letters if distinct_names else str
    train_ids = [f"train-{suffix(i)}" for i in range(trains)]
    upsert_runs(
        client,
        entity,
        project,
        [
            {"runId": r, "name": r, "config": {"lr": 0.01 * (i + 1)}}
            for i, r in enumerate(train_ids)
        ],
    )
    client.batch(
        "updateRun",
        "UpdateRunInput",
        [
            {
                "run": f"{entity}/{project}/{r}",
                "state": "FINISHED",
                "summary": {"acc": round(0.5 + i / (2 * trains), 4)},
            }
            for i, r in enumerate(train_ids)
        ],
        "id",
    )
    use_artifacts(client, [(f"{entity}/{project}/{r}", dataset["path"]) for r in train_ids])
    weights = {f"model-{i}.bin": f"weights {i}".encode() for i in range(trains)}
    models = log_artifacts(
        client,
        [
            {
                "run": f"{entity}/{project}/{r}",
                "name": "model",
                "type": "model",
                "entries": [f"model-{i}.bin"],
            }
            for i, r in enumerate(train_ids)
        ],
        weights,
    )
    eval_ids = [
        f"eval-{suffix(i)}-{suffix(j)}" for i in range(trains) for j in range(evals_per_model)
    ]
    upsert_runs(client, entity, project, [{"runId": r, "name": r} for r in eval_ids])
    use_artifacts(
        client,
        [
            (f"{entity}/{project}/{eval_ids[i * evals_per_model + j]}", models[i]["path"])
            for i in range(trains)
            for j in range(evals_per_model)
        ],
    )
    # one content for every report: after the first, each log commits at once (no upload)
    report = {"report.json": json.dumps({"ok": True}).encode()}
    for runs in (eval_ids[:1], eval_ids[1:]):
        log_artifacts(
            client,
            [
                {
                    "run": f"{entity}/{project}/{r}",
                    "name": f"report-{r}",
                    "type": "report",
                    "entries": ["report.json"],
                }
                for r in runs
            ],
            report,
        )
    return Pipeline(
        entity,
        project,
        dataset["path"],
        [m["path"] for m in models],
        [f"{entity}/{project}/{r}" for r in train_ids],
        [f"{entity}/{project}/{r}" for r in eval_ids],
    )
