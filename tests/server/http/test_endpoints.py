"""/healthz, /readyz, /metrics and GraphiQL."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.service import Api


async def test_healthz_and_readyz(api: Api) -> None:
    health = await api.http.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True}


async def test_get_graphql_opens_graphiql(api: Api) -> None:
    response = await api.http.get("/graphql")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()


async def request_counts(api: Api) -> dict[tuple[str, str], float]:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "lineage_graphql_requests_total":
                counts[(sample.labels["operation_type"], sample.labels["outcome"])] = sample.value
    return counts


async def test_metrics_count_requests_by_operation_type_and_outcome(
    api: Api, make_user: Any
) -> None:
    alice = await make_user("a")
    before = await request_counts(api)
    await api.ok("{ viewer { username } }", key=alice.key)
    await api.ok("query Named { viewer { username } }", key=alice.key)
    await api.ok('mutation { upsertRun(input: {project: "m"}) { id } }', key=alice.key)
    assert (
        await api.error('mutation { upsertRun(input: {project: "m"}) { id } }') == "UNAUTHENTICATED"
    )
    await api.http.post("/graphql", content=b"{oops", headers={"content-type": "application/json"})
    after = await request_counts(api)

    def delta(kind: str, outcome: str) -> float:
        return after.get((kind, outcome), 0) - before.get((kind, outcome), 0)

    assert delta("query", "ok") == 2
    assert delta("mutation", "ok") == 1
    assert delta("mutation", "error") == 1
    assert delta("unknown", "error") == 1


async def test_metrics_export_latency_sql_and_pool_gauges(api: Api) -> None:
    await api.ok("{ viewer { username } }")
    response = await api.http.get("/metrics")
    names = {s.name for f in text_string_to_metric_families(response.text) for s in f.samples}
    assert {
        "lineage_graphql_request_seconds_count",
        "lineage_sql_queries_total",
        "lineage_db_pool_size",
        "lineage_db_pool_max",
    } <= names


async def test_metrics_outcome_comes_from_the_errors_not_from_the_bytes(
    api: Api, make_user: Any
) -> None:
    """An answer whose data holds the word "errors" (here a config key) succeeded."""
    alice = await make_user("a")
    await api.ok(
        'mutation { upsertRun(input: {project: "m", runId: "r", config: {errors: 3}}) { id } }',
        key=alice.key,
    )
    before = await request_counts(api)
    data = await api.ok(f'{{ run(path: "{alice.name}/m/r") {{ config }} }}', key=alice.key)
    assert data == {"run": {"config": {"errors": 3}}}
    after = await request_counts(api)
    assert after.get(("query", "ok"), 0) - before.get(("query", "ok"), 0) == 1
    assert after.get(("query", "error"), 0) == before.get(("query", "error"), 0)
