"""Prometheus metrics, one registry per app (tests build many apps in one process).

Under ``lineage serve --workers N`` (server/serve.py) every process writes its values
to files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, chosen when
that variable is set at import), and /metrics, whichever process answers it, reads them
all: counters and histograms add up, the pool gauges are summed over the live processes.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

# set by server/serve.py before the first import of prometheus_client, in every process
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


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
        # labels() looks its child up under a lock with label checks: ~2 us a call, twice
        # a request; the children, once made, are kept here
        self._request_counters: dict[tuple[str, str], Any] = {}
        self._latencies: dict[str, Any] = {}
        self.sql_queries = Counter(
            "lineage_sql_queries", "SQL round trips to Postgres", registry=self.registry
        )
        # with several processes: the sum over the live ones
        gauge: dict[str, Any] = {"registry": self.registry, "multiprocess_mode": "livesum"}
        self.pool_size = Gauge("lineage_db_pool_size", "Open pool connections", **gauge)
        self.pool_idle = Gauge("lineage_db_pool_idle", "Idle pool connections", **gauge)
        self.pool_max = Gauge("lineage_db_pool_max", "Pool size limit", **gauge)

    def count_request(self, operation_type: str, outcome: str, seconds: float) -> None:
        """One GraphQL request: its outcome counted, its latency observed."""
        counter = self._request_counters.get((operation_type, outcome))
        if counter is None:
            counter = self.requests.labels(operation_type, outcome)
            self._request_counters[(operation_type, outcome)] = counter
        counter.inc()
        latency = self._latencies.get(operation_type)
        if latency is None:
            latency = self._latencies[operation_type] = self.latency.labels(operation_type)
        latency.observe(seconds)

    def _set_pool(self, db: Any) -> None:
        pool = db.pool
        self.pool_size.set(pool.get_size())
        # connections the Database keeps for its next statement are idle too
        self.pool_idle.set(pool.get_idle_size() + db.idle_kept)
        self.pool_max.set(pool.get_max_size())

    async def follow_pool(self, db: Any) -> None:
        """With several processes, each one's pool gauges are kept current by itself
        (every second): /metrics is answered by one of them and reads them all."""
        while True:
            self._set_pool(db)
            await asyncio.sleep(1.0)

    def render(self, db: Any) -> Response:
        if db is not None:
            self._set_pool(db)
        registry = self.registry
        if MULTIPROCESS:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def metrics_endpoint(request: Request) -> Response:
    return request.state.metrics.render(request.state.db)  # type: ignore[no-any-return]
