"""Prometheus metrics, one registry per app (tests build many apps in one process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "lineage_graphql_requests",
            "GraphQL requests by operation type and outcome",
            ["operation_type", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lineage_graphql_request_seconds",
            "GraphQL request latency by operation type",
            ["operation_type"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sql_queries = Counter(
            "lineage_sql_queries", "SQL round trips to Postgres", registry=self.registry
        )
        self.pool_size = Gauge(
            "lineage_db_pool_size", "Open pool connections", registry=self.registry
        )
        self.pool_idle = Gauge(
            "lineage_db_pool_idle", "Idle pool connections", registry=self.registry
        )
        self.pool_max = Gauge("lineage_db_pool_max", "Pool size limit", registry=self.registry)

    def render(self, pool: Any) -> Response:
        if pool is not None:
            self.pool_size.set(pool.get_size())
            self.pool_idle.set(pool.get_idle_size())
            self.pool_max.set(pool.get_max_size())
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


async def metrics_endpoint(request: Request) -> Response:
    db = request.state.db
    return request.state.metrics.render(db.pool)  # type: ignore[no-any-return]
