"""runs(orderBy:) and Sweep.bestRun: numbers sort numerically, missing keys come last."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.service import Api, unique

UPSERT = """mutation($p: String!, $r: String!, $c: JSON, $s: String) {
  upsertRun(input: {project: $p, runId: $r, config: $c, sweep: $s}) { runId } }"""
SUMMARY = (
    """mutation($path: String!, $s: JSON!) { updateRun(input: {run: $path, summary: $s}) { id } }"""
)
RUNS = """query(
  $e: String!, $p: String!, $f: String!, $d: SortDirection!, $first: Int, $after: String
) {
  project(entity: $e, name: $p) {
    runs(orderBy: {field: $f, direction: $d}, first: $first, after: $after) {
      edges { cursor node { runId } } pageInfo { hasNextPage endCursor } totalCount
    }
  }
}"""

# runId -> summary; created in this order. "m*" runs lack val_acc (or hold no number there)
RUNS_SUMMARIES: dict[str, dict[str, Any]] = {
    "n9": {"val_acc": 9, "a": {"b": 3}},
    "n10": {"val_acc": 10, "a": {"b": -1}},
    "m1": {"loss": 1},
    "n2_5": {"val_acc": 2.5, "a": {"b": 100}},
    "n100": {"val_acc": 100, "a": {"b": 20}},
    "m2": {"a": {"c": 1}},
    "nneg": {"val_acc": -3, "a": {"b": 9}},
}


@pytest.fixture(scope="module")
async def ordered(api: Api, make_user: Any) -> tuple[str, str, str]:
    user = await make_user("o")
    project = unique("p")
    for lr, (run_id, summary) in enumerate(RUNS_SUMMARIES.items()):
        config = (
            {"lr": [0.5, 0.05, 3, 1e-4, 2, 0.3, 20][lr], "opt": {"beta": lr}}
            if run_id != "m2"
            else {}
        )
        await api.ok(UPSERT, {"p": project, "r": run_id, "c": config}, user.key)
        await api.ok(SUMMARY, {"path": f"{user.name}/{project}/{run_id}", "s": summary}, user.key)
    return user.name, user.key, project


async def run_ids(
    api: Api, ordered: tuple[str, str, str], field: str, direction: str, first: int | None = None
) -> list[str]:
    entity, key, project = ordered
    data = await api.ok(
        RUNS, {"e": entity, "p": project, "f": field, "d": direction, "first": first}, key
    )
    return [e["node"]["runId"] for e in data["project"]["runs"]["edges"]]


@pytest.mark.parametrize(
    ("field", "direction", "expected_head"),
    [
        ("summary.val_acc", "DESC", ["n100", "n10", "n9", "n2_5", "nneg"]),
        ("summary.val_acc", "ASC", ["nneg", "n2_5", "n9", "n10", "n100"]),
        ("summary.a.b", "DESC", ["n2_5", "n100", "nneg", "n9", "n10"]),
        ("summary.a.b", "ASC", ["n10", "n9", "nneg", "n100", "n2_5"]),
    ],
)
async def test_summary_keys_sort_numerically_and_missing_ones_come_last(
    api: Api, ordered: tuple[str, str, str], field: str, direction: str, expected_head: list[str]
) -> None:
    ids = await run_ids(api, ordered, field, direction)
    assert ids[: len(expected_head)] == expected_head
    assert set(ids[len(expected_head) :]) == {"m1", "m2"}


@pytest.mark.parametrize(
    ("field", "direction", "expected"),
    [
        ("config.lr", "ASC", ["n2_5", "n10", "n9", "n100", "m1", "nneg", "m2"]),
        ("config.lr", "DESC", ["nneg", "m1", "n100", "n9", "n10", "n2_5", "m2"]),
        ("config.opt.beta", "DESC", ["nneg", "n100", "n2_5", "m1", "n10", "n9", "m2"]),
    ],
)
async def test_config_keys_sort_numerically(
    api: Api, ordered: tuple[str, str, str], field: str, direction: str, expected: list[str]
) -> None:
    assert await run_ids(api, ordered, field, direction) == expected


async def test_created_at_orders_both_ways_and_is_the_default(
    api: Api, ordered: tuple[str, str, str]
) -> None:
    created = list(RUNS_SUMMARIES)
    assert await run_ids(api, ordered, "createdAt", "ASC") == created
    assert await run_ids(api, ordered, "createdAt", "DESC") == created[::-1]
    entity, key, project = ordered
    data = await api.ok(
        """query($e: String!, $p: String!) {
             project(entity: $e, name: $p) { runs { edges { node { runId } } } } }""",
        {"e": entity, "p": project},
        key,
    )
    assert [e["node"]["runId"] for e in data["project"]["runs"]["edges"]] == created[::-1]


@pytest.mark.parametrize(
    ("field", "direction"),
    [
        ("summary.val_acc", "DESC"),
        ("summary.val_acc", "ASC"),
        ("config.lr", "ASC"),
        ("createdAt", "DESC"),
    ],
)
async def test_paging_through_an_ordered_list_keeps_its_order(
    api: Api, ordered: tuple[str, str, str], field: str, direction: str
) -> None:
    entity, key, project = ordered
    whole = await run_ids(api, ordered, field, direction)
    seen: list[str] = []
    after = None
    for _ in range(len(whole)):
        data = await api.ok(
            RUNS,
            {"e": entity, "p": project, "f": field, "d": direction, "first": 2, "after": after},
            key,
        )
        runs = data["project"]["runs"]
        seen += [e["node"]["runId"] for e in runs["edges"]]
        assert runs["totalCount"] == len(whole)
        if not runs["pageInfo"]["hasNextPage"]:
            break
        after = runs["pageInfo"]["endCursor"]
        assert after == runs["edges"][-1]["cursor"]
    assert seen == whole


@pytest.mark.parametrize("field", ["val_acc", "summary.", "summary..a", "metrics.x", "config", ""])
async def test_unknown_order_fields_are_bad_input(
    api: Api, ordered: tuple[str, str, str], field: str
) -> None:
    entity, key, project = ordered
    code = await api.error(RUNS, {"e": entity, "p": project, "f": field, "d": "DESC"}, key)
    assert code == "BAD_USER_INPUT"


async def test_a_cursor_of_another_ordering_is_bad_input(
    api: Api, ordered: tuple[str, str, str]
) -> None:
    entity, key, project = ordered
    data = await api.ok(
        RUNS, {"e": entity, "p": project, "f": "createdAt", "d": "DESC", "first": 1}, key
    )
    cursor = data["project"]["runs"]["pageInfo"]["endCursor"]
    variables = {"e": entity, "p": project, "f": "summary.val_acc", "d": "DESC", "after": cursor}
    assert await api.error(RUNS, variables, key) == "BAD_USER_INPUT"


# ---- bestRun -----------------------------------------------------------------------------

BEST = """query($path: String!, $m: String!, $g: OptimizationGoal!) {
  sweep(path: $path) { bestRun(metric: $m, goal: $g) { runId } runs { totalCount } }
}"""


# the sweep's runs' configs ("none" has none)
SWEEP_CONFIGS: dict[str, dict[str, Any]] = {
    "a9": {"lr": 0.3},
    "a10": {"lr": 0.1},
    "a2": {"lr": 0.2},
    "text": {"lr": "x"},
}


@pytest.fixture(scope="module")
async def sweep(api: Api, make_user: Any) -> tuple[str, str]:
    user = await make_user("s")
    project = unique("p")
    await api.ok(
        'mutation($p: String!) { createSweep(input: {project: $p, sweepId: "sw"}) { id } }',
        {"p": project},
        user.key,
    )
    summaries = {
        "a9": {"acc": 9, "val": {"loss": 0.9}},
        "a10": {"acc": 10, "val": {"loss": 0.25}},
        "a2": {"acc": 2, "val": {"loss": 1.5}},
        "text": {"acc": "100", "val": {"loss": "0.0"}},
        "none": {"other": 1000},
    }
    for run_id, summary in summaries.items():
        config = SWEEP_CONFIGS.get(run_id, {})
        await api.ok(UPSERT, {"p": project, "r": run_id, "s": "sw", "c": config}, user.key)
        await api.ok(SUMMARY, {"path": f"{user.name}/{project}/{run_id}", "s": summary}, user.key)
    # a run outside the sweep never counts
    await api.ok(UPSERT, {"p": project, "r": "outside"}, user.key)
    await api.ok(
        SUMMARY,
        {"path": f"{user.name}/{project}/outside", "s": {"acc": 1e9, "val": {"loss": -1}}},
        user.key,
    )
    return f"{user.name}/{project}/sw", user.key


@pytest.mark.parametrize(
    ("metric", "goal", "best"),
    [
        ("acc", "MAXIMIZE", "a10"),
        ("acc", "MINIMIZE", "a2"),
        ("val.loss", "MINIMIZE", "a10"),
        ("val.loss", "MAXIMIZE", "a2"),
    ],
)
async def test_best_run_compares_numbers_and_ignores_the_rest(
    api: Api, sweep: tuple[str, str], metric: str, goal: str, best: str
) -> None:
    path, key = sweep
    data = await api.ok(BEST, {"path": path, "m": metric, "g": goal}, key)
    assert data["sweep"]["bestRun"] == {"runId": best}
    assert data["sweep"]["runs"]["totalCount"] == 5


async def test_best_run_defaults_to_maximize(api: Api, sweep: tuple[str, str]) -> None:
    path, key = sweep
    data = await api.ok(
        'query($p: String!) { sweep(path: $p) { bestRun(metric: "acc") { runId } } }',
        {"p": path},
        key,
    )
    assert data["sweep"]["bestRun"] == {"runId": "a10"}


@pytest.mark.parametrize("metric", ["missing", "val", "acc.deeper"])
async def test_best_run_is_null_when_no_run_has_a_number(
    api: Api, sweep: tuple[str, str], metric: str
) -> None:
    path, key = sweep
    data = await api.ok(BEST, {"path": path, "m": metric, "g": "MAXIMIZE"}, key)
    assert data["sweep"]["bestRun"] is None


async def test_sweep_runs_order_like_project_runs(api: Api, sweep: tuple[str, str]) -> None:
    path, key = sweep
    data = await api.ok(
        """query($p: String!) { sweep(path: $p) {
             runs(orderBy: {field: "summary.acc", direction: DESC}) {
               edges { node { runId } } } } }""",
        {"p": path},
        key,
    )
    ids = [e["node"]["runId"] for e in data["sweep"]["runs"]["edges"]]
    assert ids[:3] == ["a10", "a9", "a2"]
    assert set(ids[3:]) == {"text", "none"}


SWEEP_RUNS = """query($path: String!, $f: String!, $d: SortDirection!, $first: Int, $after: String) {
  sweep(path: $path) { runs(orderBy: {field: $f, direction: $d}, first: $first, after: $after) {
    edges { node { runId } } pageInfo { hasNextPage endCursor } } } }"""


@pytest.mark.parametrize(
    ("field", "direction", "expected"),
    [
        ("createdAt", "ASC", ["a9", "a10", "a2", "text", "none"]),
        ("createdAt", "DESC", ["none", "text", "a2", "a10", "a9"]),
        ("summary.acc", "ASC", ["a2", "a9", "a10", "text", "none"]),
        ("summary.acc", "DESC", ["a10", "a9", "a2", "text", "none"]),
        ("config.lr", "ASC", ["a10", "a2", "a9", "text", "none"]),
        ("config.lr", "DESC", ["a9", "a2", "a10", "text", "none"]),
    ],
)
async def test_sweep_runs_page_in_every_order(
    api: Api, sweep: tuple[str, str], field: str, direction: str, expected: list[str]
) -> None:
    """Numbers first, then text, then runs without the key, whichever the direction; a
    page of two at a time gives the same list as one page."""
    path, key = sweep
    seen: list[str] = []
    after = None
    for _ in expected:
        variables = {"path": path, "f": field, "d": direction, "first": 2, "after": after}
        runs = (await api.ok(SWEEP_RUNS, variables, key))["sweep"]["runs"]
        seen += [e["node"]["runId"] for e in runs["edges"]]
        if not runs["pageInfo"]["hasNextPage"]:
            break
        after = runs["pageInfo"]["endCursor"]
    assert seen == expected
