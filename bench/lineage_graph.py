"""A reproducible synthetic lineage graph shaped like real ML pipelines.

Rows come out ready for COPY into the service's tables (ids assigned here, in creation
order, so edge ``seq`` order is chronological). The shape:

- Hubs: public datasets and pretrained models in PUBLIC projects of another entity,
  picked with Zipf weights, so a few are used by thousands of runs. A third of them are
  models at the end of a public pipeline, so they have a long upstream too.
- Pipelines (in the viewer's PRIVATE projects): an ingest run logs a raw dataset, then
  5-15 stages each run a prep job (uses the previous stage's dataset, logs the next one:
  10-30 hops end to end), training runs (a sweep now and then) that use the stage's
  dataset, code and 1-4 hubs and log a model and often a checkpoint, and evaluations that
  use a model, the dataset and a test-set hub and log results. Some pipelines start from
  another pipeline's model (fine-tuning), which makes chains deeper still.
- A PRIVATE project of a third entity the viewer cannot read uses hubs too: lineage
  answers must leave those runs out.

medium (scale 1): about 20,000 runs, 40,000 versions and 150,000 edges (logs + uses).
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SCALES = {"small": 0.05, "medium": 1.0, "large": 7.1}
HUB_COUNT = 60
HUB_ZIPF = 0.8
PIPELINES = 310  # at scale 1
HIDDEN_RUNS_PER_PIPELINE = 1.0
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class Tables:
    """Rows per table, in the column order of ``COLUMNS``."""

    projects: list[tuple[Any, ...]] = field(default_factory=list)
    runs: list[tuple[Any, ...]] = field(default_factory=list)
    artifact_collections: list[tuple[Any, ...]] = field(default_factory=list)
    artifact_versions: list[tuple[Any, ...]] = field(default_factory=list)
    artifact_logs: list[tuple[Any, ...]] = field(default_factory=list)
    artifact_uses: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS = {
    "projects": ["id", "entity_id", "name", "visibility"],
    "runs": ["id", "project_id", "run_id", "name", "state"],
    "artifact_collections": ["id", "project_id", "name", "type"],
    "artifact_versions": [
        "id",
        "collection_id",
        "project_id",
        "version_index",
        "state",
        "digest",
        "size",
        "file_count",
        "logged_by",
        "committed_at",
        "name",
        "type",
    ],
    "artifact_logs": ["run_id", "version_id", "run_project_id", "version_project_id"],
    "artifact_uses": ["version_id", "run_id", "version_project_id", "run_project_id"],
}


@dataclass(frozen=True)
class Entities:
    viewer: int  # the benchmark user's personal entity: its projects are readable
    public: int  # a team whose projects are PUBLIC
    hidden: int  # a team whose PRIVATE project the viewer cannot read


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.t = Tables()
        self.project_of_run: list[int] = [0]
        self.collections: dict[tuple[int, str], list[int]] = {}  # -> [id, next index]
        self.use_count: Counter[int] = Counter()
        self._used: set[tuple[int, int]] = set()

    def project(self, entity: int, name: str, visibility: str) -> int:
        pid = len(self.t.projects) + 1
        self.t.projects.append((pid, entity, name, visibility))
        return pid

    def run(self, project: int, kind: str) -> int:
        rid = len(self.t.runs) + 1
        self.t.runs.append((rid, project, f"{kind[0]}{rid:07d}", f"{kind}-{rid}", "FINISHED"))
        self.project_of_run.append(project)
        return rid

    def log(self, run: int, name: str, type_: str) -> int:
        project = self.project_of_run[run]
        coll = self.collections.get((project, name))
        if coll is None:
            coll = self.collections[(project, name)] = [len(self.t.artifact_collections) + 1, 0]
            self.t.artifact_collections.append((coll[0], project, name, type_))
        vid = len(self.t.artifact_versions) + 1
        size = self.rng.randrange(1_000, 50_000_000)
        digest = f"{self.rng.getrandbits(256):064x}"
        self.t.artifact_versions.append(
            (
                vid,
                coll[0],
                project,
                coll[1],
                "COMMITTED",
                digest,
                size,
                self.rng.randrange(1, 200),
                run,
                EPOCH,
                name,
                type_,
            )
        )
        coll[1] += 1
        self.t.artifact_logs.append((run, vid, project, project))
        return vid

    def use(self, run: int, *versions: int) -> None:
        for vid in versions:
            if (run, vid) not in self._used:
                self._used.add((run, vid))
                version_project = self.t.artifact_versions[vid - 1][2]
                self.t.artifact_uses.append((vid, run, version_project, self.project_of_run[run]))
                self.use_count[vid] += 1


class Hubs:
    """Popular artifacts, drawn with Zipf weights."""

    def __init__(self, rng: random.Random, versions: list[int]) -> None:
        self.rng = rng
        self.versions = versions
        weights = [1 / (i + 1) ** HUB_ZIPF for i in range(len(versions))]
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, count: int) -> list[int]:
        total = self.cumulative[-1]
        return list(
            {
                self.versions[bisect_left(self.cumulative, self.rng.random() * total)]
                for _ in range(count)
            }
        )


@dataclass
class Pipeline:
    b: Builder
    project: int
    name: str
    hubs: Hubs | None

    def ingest(self, source: int | None) -> int:
        run = self.b.run(self.project, "ingest")
        if source is not None:
            self.b.use(run, source)
        return self.b.log(run, f"{self.name}-raw", "dataset")

    def hub_picks(self, low: int, high: int) -> list[int]:
        return self.hubs.pick(self.b.rng.randrange(low, high)) if self.hubs else []

    def stage(
        self, k: int, dataset: int, inputs: list[int], base: int | None
    ) -> tuple[int, list[int]]:
        """Prep -> next dataset; trainings -> models; evaluations. Returns (dataset, models).

        ``inputs``: the pipeline's code and config; ``base``: a model of the previous stage
        that half the trainings fine-tune."""
        b, rng = self.b, self.b.rng
        prep = b.run(self.project, "prep")
        b.use(prep, dataset, *inputs, *(self.hub_picks(1, 2) if rng.random() < 0.3 else []))
        nxt = b.log(prep, f"{self.name}-s{k}", "dataset")
        for extra in ("stats", "split"):
            if rng.random() < 0.5:
                b.log(prep, f"{self.name}-s{k}-{extra}", extra)
        trainings = (
            rng.choice([0, 0, 1, 1, 1, 2, 2, 3]) if rng.random() > 0.05 else rng.randrange(10, 40)
        )
        models = []
        for _ in range(trainings):
            train = b.run(self.project, "train")
            b.use(
                train,
                nxt,
                *inputs,
                *self.hub_picks(1, 5),
                *([base] if base and rng.random() < 0.5 else []),
            )
            model = b.log(train, f"{self.name}-s{k}-model", "model")
            for extra, p in (("ckpt", 0.7), ("metrics", 0.3)):
                if rng.random() < p:
                    b.log(train, f"{self.name}-s{k}-{extra}", extra)
            models.append(model)
            for _ in range(rng.choice([0, 1, 1, 2])):
                ev = b.run(self.project, "eval")
                b.use(ev, model, nxt, *inputs, *self.hub_picks(1, 4))
                b.log(ev, f"{self.name}-s{k}-eval", "eval")
                for extra in ("preds", "report"):
                    if rng.random() < 0.5:
                        b.log(ev, f"{self.name}-s{k}-{extra}", extra)
        return nxt, models

    def build(self, source: int | None) -> list[int]:
        """The whole chain; returns every model it trained (at least one)."""
        dataset = self.ingest(source)
        code_run = self.b.run(self.project, "code")
        inputs = [self.b.log(code_run, f"{self.name}-{kind}", kind) for kind in ("code", "config")]
        models: list[int] = []
        for k in range(1, self.b.rng.randint(5, 15) + 1):
            dataset, found = self.stage(
                k, dataset, inputs, self.b.rng.choice(models) if models else None
            )
            models += found
        if not models:
            final = self.b.run(self.project, "train")
            self.b.use(final, dataset, *inputs)
            models.append(self.b.log(final, f"{self.name}-final-model", "model"))
        return models


@dataclass
class Generated:
    tables: Tables
    use_count: Counter[int]
    hubs: list[int]
    seconds: float = 0.0

    def stats(self) -> dict[str, int]:
        t = self.tables
        return {
            "projects": len(t.projects),
            "runs": len(t.runs),
            "collections": len(t.artifact_collections),
            "versions": len(t.artifact_versions),
            "logs": len(t.artifact_logs),
            "uses": len(t.artifact_uses),
            "edges": len(t.artifact_logs) + len(t.artifact_uses),
        }


def make_hubs(b: Builder, entities: Entities) -> Hubs:
    """Public datasets and pretrained models (the end of a public pipeline), shuffled."""
    datasets_project = b.project(entities.public, "public-datasets", "PUBLIC")
    models_project = b.project(entities.public, "public-models", "PUBLIC")
    hubs = []
    for i in range(HUB_COUNT * 2 // 3):
        hubs.append(b.log(b.run(datasets_project, "ingest"), f"corpus-{i}", "dataset"))
    for i in range(HUB_COUNT - len(hubs)):
        hubs.append(Pipeline(b, models_project, f"pretrain-{i}", None).build(None)[-1])
    b.rng.shuffle(hubs)
    return Hubs(b.rng, hubs)


def generate(size: str, seed: int, entities: Entities) -> Generated:
    scale = SCALES[size]
    b = Builder(seed)
    hubs = make_hubs(b, entities)
    projects = [
        b.project(entities.viewer, f"project-{i}", "PRIVATE")
        for i in range(max(2, round(20 * scale)))
    ]
    hidden = b.project(entities.hidden, "hidden", "PRIVATE")
    models: list[int] = []
    for i in range(max(5, round(PIPELINES * scale))):
        roll = b.rng.random()
        source = (
            b.rng.choice(models)
            if roll < 0.3 and models
            else hubs.pick(1)[0]
            if roll < 0.6
            else None
        )
        models += Pipeline(b, b.rng.choice(projects), f"pipe{i}", hubs).build(source)
        if b.rng.random() < HIDDEN_RUNS_PER_PIPELINE:
            run = b.run(hidden, "train")
            b.use(run, *hubs.pick(b.rng.randrange(1, 4)))
            b.log(run, f"secret-{i}", "model")
    return Generated(b.t, b.use_count, hubs.versions)
