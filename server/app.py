"""create_app(settings) -> Starlette. The lifespan opens the pool, the store and the worker.

This is the composition root: the one server module that knows the GraphQL schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from server.db.database import Database
from server.db.embedded import EmbeddedPostgres
from server.db.migrations import apply_migrations
from server.db.pool import create_pool
from server.domain import accounts
from server.domain.references import (
    BucketScope,
    ReferenceError,
    ReferencePolicy,
    parse_s3_uri,
    store_scope,
)
from server.http.deadline import Deadlines
from server.http.documents import DocumentCache
from server.http.graphql import graphql_endpoint
from server.http.health import ReadinessChecks, healthz, readyz
from server.http.metrics import MULTIPROCESS, Metrics, metrics_endpoint
from server.http.onewrite import one_write
from server.secret import signing_secret
from server.settings import Settings
from server.storage.factory import open_store
from server.storage.files_routes import files_routes
from server.web import web_routes
from server.worker import Worker

log = logging.getLogger(__name__)


async def open_database(
    settings: Settings, stack: AsyncExitStack, metrics: Metrics
) -> tuple[str, Database]:
    """The database's URL and a pool on it, migrated: DATABASE_URL, or the embedded
    Postgres under the data dir, started (or joined) and watched until ``stack`` closes."""
    embedded, url = None, settings.database_url
    if url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        # starting it blocks for about a second; keep the loop free
        url = await asyncio.to_thread(embedded.start)
    pool = await create_pool(
        url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        statement_timeout_seconds=settings.statement_timeout_seconds,
    )
    stack.push_async_callback(_close_pool, pool)
    if embedded is not None:
        _supervise(embedded, pool, stack)
    async with pool.acquire() as conn:
        # a migration may rewrite a big table: no per-statement limit for it
        await conn.execute("SET statement_timeout = 0")
        try:
            await apply_migrations(conn)
        finally:
            await conn.execute("RESET statement_timeout")
    # up to half the pool stays checked out between statements (server/db/database.py):
    # never all of it, so that pool.acquire (migrations, the CLI) never waits on them
    db = Database(pool, on_query=metrics.sql_queries.inc, keep_idle=settings.pool_max_size // 2)
    stack.push_async_callback(db.release_idle)  # before the pool closes
    return url, db


# asyncpg's Pool.close waits, without limit, for every connection to be given back. asyncpg
# before 0.32 could keep a slot taken for good after a lost connection (now the minimum;
# tests/server/db/test_database.py); whatever else might hold one, shutdown stays bounded.
POOL_CLOSE_SECONDS = 10.0


async def _close_pool(pool: Any) -> None:
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
    except TimeoutError:
        log.warning(
            "database connections not given back within %.0f s of shutdown; closing them",
            POOL_CLOSE_SECONDS,
        )
        pool.terminate()


async def bootstrap_admin(db: Database, settings: Settings) -> None:
    key = await accounts.bootstrap_admin(db)
    if key is None:
        return
    print(
        "\n  First start: created user 'admin'. Its API key (shown only this once):\n\n"
        f"    {key.key}\n\n"
        f"  GraphiQL: {settings.base_url}/graphql\n",
        flush=True,
    )


def create_app(settings: Settings) -> Starlette:
    from resolvers.schema import lineage_schema

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            _, db = await open_database(settings, stack, metrics)
            if MULTIPROCESS:
                _background(metrics.follow_pool(db), "lineage-pool-gauges", stack)
            if settings.bootstrap_admin:
                await bootstrap_admin(db, settings)
            state: dict[str, Any] = {"db": db, "settings": settings, "metrics": metrics}
            state.update(await open_storage(settings, stack))
            worker = start_worker(settings, db, state, stack)
            if worker is not None:
                state["worker"] = worker
            log.info("serving on %s", settings.base_url)
            yield state

    app = LineageApp(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *files_routes,
            # last: the web app's pages match any path of their shape
            *web_routes,
        ],
        lifespan=lifespan,
    )
    app.state.schema = lineage_schema(fast_execution=settings.fast_execution)
    app.state.settings = settings
    app.state.readiness = ReadinessChecks()
    app.state.documents = DocumentCache()
    app.state.deadlines = Deadlines()
    return app


class LineageApp(Starlette):
    """The app; POST /graphql, most of its requests, goes straight to its endpoint.

    Starlette would pass it through its error middleware, exception middleware, router
    (matching every route in turn) and the route's request/response wrappers, about 40 us
    a request; the endpoint answers every error itself (server/http/graphql.py), so those
    layers add nothing to it. Everything else (GET /graphql, other paths, a mounted
    root_path, the lifespan) takes Starlette's way.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] == "POST"
            and not scope.get("root_path")
        ):
            scope["app"] = self
            response = await graphql_endpoint(Request(scope, receive, send))
            await one_write(send, response(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def tune_garbage_collector() -> None:
    """For a serving process, once everything is imported. Python's cyclic collector runs
    every 700 allocations and walks every tracked object that survived earlier runs: the
    schema, the libraries, and each big answer while it is being built. A 10,000-node
    lineage answer spent about a third of its time there (bench/lineage_bench.py). Freezing
    what exists at start-up takes it out of every later collection, and a higher first
    threshold lets short-lived request objects die before the collector looks at them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)


GC_THRESHOLD = 20_000


async def open_storage(settings: Settings, stack: AsyncExitStack) -> dict[str, Any]:
    """The blob store and the S3 client for reference entries."""
    store = await open_store(
        settings.effective_storage_url,
        secret=signing_secret(settings),
        public_base_url=settings.base_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        url_ttl_seconds=settings.signed_url_ttl_seconds,
    )
    stack.push_async_callback(store.close)
    references = LazyReferences(settings)
    stack.push_async_callback(references.close)
    if problem := await references.configuration_problem():
        log.error("%s", problem)
    return {"store": store, "references": references}


class LazyReferences:
    """The S3 reference resolver, made on first use: most installs never log a reference,
    and importing aiobotocore is a third of the server's start-up time."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # ValueError at start-up for a malformed LINEAGE_REFERENCE_BUCKETS
        self.policy = ReferencePolicy(
            allowed=tuple(BucketScope.parse(b) for b in settings.reference_buckets),
            own_store=store_scope(settings.effective_storage_url),
        )
        self._resolver: Any = None
        self._lock = asyncio.Lock()
        self._problem: str | None = None

    async def _get(self) -> Any:
        async with self._lock:
            if self._resolver is None:
                from server.storage.references import ReferenceResolver

                self._resolver = await ReferenceResolver.create(
                    endpoint_url=self._settings.s3_endpoint_url,
                    policy=self.policy,
                    url_ttl_seconds=self._settings.signed_url_ttl_seconds,
                )
        return self._resolver

    def may_read(self, uri: str) -> bool:
        try:
            return self.policy.may_read(parse_s3_uri(uri))
        except ReferenceError:
            return False

    async def resolve(self, uri: str, checksum: bool, **options: Any) -> Any:
        return await (await self._get()).resolve(uri, checksum, **options)

    async def download_url(self, uri: str, version_id: str | None) -> str | None:
        """A presigned GET, or None where the server may not sign (not allowed, or no
        credentials): the client reads ``ref`` and ``versionID`` with its own."""
        if not self.may_read(uri):
            return None
        try:
            url: str = await (await self._get()).download_url(uri, version_id)
        except ReferenceError:
            return None
        return url

    async def configuration_problem(self) -> str | None:
        """Why allowed buckets cannot be read (no S3 credentials): a configuration error,
        logged at start-up and named by /readyz until it is fixed."""
        if not self.policy.allowed:
            return None
        from aiobotocore.session import get_session

        found = await get_session().get_credentials()
        self._problem = (
            None
            if found is not None
            else (
                "LINEAGE_REFERENCE_BUCKETS is set but no S3 credentials were found: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile)"
            )
        )
        return self._problem

    @property
    def problem(self) -> str | None:
        return self._problem

    async def close(self) -> None:
        if self._resolver is not None:
            await self._resolver.close()


def _background(job: Coroutine[Any, Any, None], name: str, stack: AsyncExitStack) -> None:
    """Run ``job`` until ``stack`` closes."""
    task = asyncio.create_task(job, name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


def _supervise(embedded: EmbeddedPostgres, pool: Any, stack: AsyncExitStack) -> None:
    """Restart the embedded Postgres when it dies; the pool then connects to it again."""

    async def reconnect(url: str) -> None:
        pool.set_connect_args(dsn=url)  # the same unless its socket moved
        await pool.expire_connections()  # the old server's connections are dead

    # stopped before the pool closes and the server is stopped
    _background(embedded.supervise(reconnect), "lineage-postgres", stack)


def start_worker(
    settings: Settings, db: Database, state: dict[str, Any], stack: AsyncExitStack
) -> Any:
    """The background worker (when settings.run_worker), stopped when ``stack`` closes."""
    if not settings.run_worker:
        return None
    worker = Worker(db, state["store"], settings)
    task = asyncio.create_task(worker.run_forever(), name="lineage-worker")

    async def stop() -> None:
        worker.stop()  # between items: each batch of work is its own transaction
        try:
            await asyncio.wait_for(asyncio.shield(task), settings.shutdown_timeout_seconds)
        except TimeoutError:
            log.warning("the worker did not stop in time; cancelling it")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    stack.push_async_callback(stop)
    return worker
