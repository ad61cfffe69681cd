"""Where a small request's server CPU goes: the app in this process, stage by stage.

Runs the app (server/app.py, with its lifespan) in this process on a running database
and sends it one request body N times through a bare ASGI driver (no uvicorn, no
socket to a client): the CPU per request of everything between the ASGI entry and the
response, and, with ``--stages``, the process CPU spent inside each stage (checkpoints
around the endpoint's steps, the root plan, the SQL call, the batched fields...).
Requests run one at a time on one event loop, so the process CPU between two
checkpoints is that request's alone. Checkpoints cost ~1 us each (a system call).

    python bench/request_stages.py --data-dir DIR --key-file KEY --body BODY.json \\
        [--n 3000] [--repeat 5] [--stages] [--profile out.prof]

DIR is a loaded data dir whose embedded Postgres runs (its `lineage serve` is up; or
give --database-url), KEY a file holding an API key, BODY a JSON request body. It prints the minimum
and median CPU per request over the repeats (the machine is shared: the minimum is the
steadiest), and the stages of one more pass. The live server's CPU per request is this
plus uvicorn, the HTTP socket and a colder cache (docs/performance.md, round 7).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import importlib
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # server, resolvers

SPENT: collections.Counter[str] = collections.Counter()
CALLS: collections.Counter[str] = collections.Counter()


def _timed(owner: Any, name: str, label: str) -> None:
    """Count the process CPU spent inside ``owner.name`` (a function or coroutine
    function, looked up where its caller looks it up) under ``label``."""
    original = getattr(owner, name)
    clock = time.process_time_ns
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return await original(*args, **kwargs)
            finally:
                SPENT[label] += clock() - started
                CALLS[label] += 1

        setattr(owner, name, timed_async)
        return

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] += clock() - started
            CALLS[label] += 1

    setattr(owner, name, timed)


def instrument() -> None:
    """The checkpoints: each stage where its caller finds it."""
    graphql = importlib.import_module("server.http.graphql")
    execution = importlib.import_module("resolvers.execution")
    database = importlib.import_module("server.db.database")
    queries = importlib.import_module("resolvers.artifacts.queries")
    context = importlib.import_module("server.context")
    for owner, name, label in [
        (graphql, "_handle", "1 endpoint without its glue (deadline, metrics, ids)"),
        (graphql, "_answer", "2 _answer: body to response"),
        (graphql, "_deferred_key", "2a Bearer key hash"),
        (graphql, "read_limited_body", "2b body read"),
        (graphql, "decode_request", "2c JSON decode"),
        (graphql, "unstorable_text", "2d unstorable text check"),
        (graphql, "_document", "2e document cache"),
        (graphql, "select_operation", "2f operation chosen"),
        (graphql.GraphQLResponse, "__init__", "2g response (orjson)"),
        (context.Context, "__init__", "2h Context"),
        (context.Context, "release", "2i Context.release"),
        (importlib.import_module("resolvers.schema"), "validation_errors", "3a validation"),
        (importlib.import_module("resolvers.root_plan"), "_coerced", "3b variables"),
        (execution.FastExecutionContext, "__init__", "3c executor made"),
        (queries, "_with_first_pages", "4 artifact(path) with first pages"),
        (importlib.import_module("server.domain.lineage"), "find_artifact_with_hops",
         "4a find_artifact_with_hops"),
        (database.Database, "_run", "4b one statement (asyncpg, socket)"),
        (execution, "settle", "5 batched fields (loggedBy, usedBy...)"),
        (importlib.import_module("server.http.metrics").Metrics, "count_request", "6 metrics"),
    ]:  # fmt: skip
        _timed(owner, name, label)
    root_plan = importlib.import_module("resolvers.root_plan")
    _timed(root_plan, "run_root_plan", "3 run_root_plan")


def _scope(body: bytes, key: str, state: dict[str, Any]) -> dict[str, Any]:
    """What uvicorn passes for an httpx POST (the peer harness's client)."""
    headers = [
        (b"host", b"127.0.0.1"), (b"accept", b"*/*"), (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"), (b"user-agent", b"python-httpx/0.28.1"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-length", str(len(body)).encode()), (b"content-type", b"application/json"),
    ]  # fmt: skip
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "scheme": "http", "method": "POST", "root_path": "", "path": "/graphql",
        "raw_path": b"/graphql", "query_string": b"", "headers": headers, "state": dict(state),
    }  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    from server.app import create_app, tune_garbage_collector
    from server.settings import Settings

    url = args.database_url or f"postgresql://postgres:@/postgres?host={args.data_dir}/postgres"
    settings = Settings.from_env(run_worker=False, data_dir=Path(args.data_dir), database_url=url)
    app = create_app(settings)
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    state: dict[str, Any] = {}
    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    running = asyncio.create_task(app(lifespan, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    if started["type"] != "lifespan.startup.complete":
        raise SystemExit(f"the app did not start: {started}")
    tune_garbage_collector()
    body, key = args.body_bytes, args.key
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def one() -> None:
        sent.clear()
        await app(_scope(body, key, state), receive, send)

    for _ in range(min(args.n, 300)):  # warm-up: plans, caches, connections
        await one()
    answer = sent[-1]["body"]
    if b'"errors"' in answer:
        raise SystemExit(f"the request failed: {answer[:300]!r}")
    per_request = []
    for _ in range(args.repeat):
        cpu = time.process_time()
        for _ in range(args.n):
            await one()
        per_request.append((time.process_time() - cpu) / args.n * 1e6)
    per_request.sort()
    print(f"{Path(args.body).name}: {len(answer)} bytes answered; CPU per request over "
          f"{args.repeat} x {args.n}: min {per_request[0]:.0f} us, "
          f"median {per_request[len(per_request) // 2]:.0f} us")  # fmt: skip
    if args.stages or args.profile:
        if args.stages:
            instrument()
        profile = None
        if args.profile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        cpu = time.process_time()
        for _ in range(args.n):
            await one()
        spent = (time.process_time() - cpu) / args.n * 1e6
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        print(f"  with checkpoints: {spent:.0f} us per request; inside each stage:")
        for label, ns in sorted(SPENT.items()):
            print(f"  {label:<55} {ns / args.n / 1000:7.1f} us  ({CALLS[label] / args.n:g}/req)")
    await to_app.put({"type": "lifespan.shutdown"})
    await from_app.get()
    await running


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, help="a data dir whose Postgres runs")
    parser.add_argument("--database-url", help="its database (default: the embedded one)")
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--n", type=int, default=3000, help="requests per repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stages", action="store_true", help="CPU inside each stage")
    parser.add_argument("--profile", help="also write a cProfile of one pass here")
    args = parser.parse_args()
    args.body_bytes = Path(args.body).read_bytes()
    args.key = Path(args.key_file).read_text().strip()
    try:
        import uvloop
    except ImportError:  # the server's [standard] extra brings it
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
