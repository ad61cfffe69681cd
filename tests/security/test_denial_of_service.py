"""Requests that wedged or exhausted the server get a coded refusal quickly, while the
event loop keeps answering ``/healthz``. The probe sent them anonymously; anonymous bodies
are now capped at 1 MiB, so the shapes are sent by a signed-in user (whose limit is 32 MiB:
the guard must hold for them too), and the probe's biggest as well anonymously (413).

The probe's shapes: 23 fragments each spreading the next twice (907 bytes, 9.4 s of guard
work on the event loop; 30 would take ~40 minutes), 40,000 aliases of a ``first: 0``
connection (2.9 MB, 83 s while /healthz stalled 43 s), and distinct 2 MB documents each
kept by the parse cache (~200 MB apiece). The app runs in the test's event loop, so
anything that blocks it delays the /healthz polls measured here.

The bounds are generous (this machine is shared and slow): what they tell apart is
milliseconds from seconds or minutes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

import pytest

from server.http.documents import CACHE_TOTAL_CHARS, DocumentCache
from server.settings import Settings
from tests.fixtures.service import Account, Api, running_api

REFUSAL_SECONDS = 5.0
UPDATE_RUN = """mutation($r: String!) { updateRun(input: {run: $r, summary: {a: 1}}) { id } }"""
HEALTHZ_STALL_SECONDS = 1.0


@pytest.fixture(scope="module")
async def key(make_user: Any) -> str:
    user: Account = await make_user("probe")
    return user.key


async def answered_while_healthy(
    api: Api, body: bytes, key: str | None = None, statuses: tuple[int, ...] = (200, 400)
) -> dict[str, Any]:
    """Send ``body`` (anonymously unless ``key``) while polling /healthz: answered in time,
    with a request id, and /healthz never stalled meanwhile."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            started = time.perf_counter()
            response = await api.http.get("/healthz")
            stalls.append(time.perf_counter() - started)
            assert response.status_code == 200
            await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    response = await api.http.post("/graphql", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    done.set()
    await poller
    assert response.status_code in statuses, response.text[:500]
    assert response.headers.get("x-request-id")
    assert elapsed < REFUSAL_SECONDS, f"answered after {elapsed:.1f} s"
    assert max(stalls) < HEALTHZ_STALL_SECONDS, f"/healthz stalled {max(stalls):.2f} s"
    answer: dict[str, Any] = response.json()
    return answer


async def refused_while_healthy(
    api: Api, body: bytes, codes: set[str], key: str | None = None
) -> dict[str, Any]:
    answer = await answered_while_healthy(api, body, key)
    assert answer["errors"][0]["extensions"]["code"] in codes, answer["errors"][0]
    assert answer.get("data") is None
    return answer


def post(query: str, **extra: Any) -> bytes:
    return json.dumps({"query": query, **extra}).encode()


def fan_out(levels: int, spreads: int = 2, leaf: str = "viewer { id }") -> str:
    """F0 spreads F1 ``spreads`` times, F1 spreads F2, ...: spreads^levels leaves."""
    fragments = [
        f"fragment F{i} on Query {{ {' '.join([f'...F{i + 1}'] * spreads)} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "query { ...F0 } " + " ".join(fragments)


TOO_COMPLEX = {"QUERY_TOO_COMPLEX"}


@pytest.mark.parametrize(
    "query",
    [
        fan_out(22),  # the probe's 907 bytes
        fan_out(30),
        fan_out(200),
        fan_out(12, spreads=3),
        # a tree: F0 spreads ten fragments, each of which spreads the next level's ten
        "query { ...F0 } "
        + " ".join(
            f"fragment F{i} on Query {{ {' '.join(f'...F{i + 1}' for _ in range(10))} }}"
            for i in range(6)
        )
        + " fragment F6 on Query { viewer { id } }",
        # fan-out below a connection, through inline fragments and on other types
        'query { entity(name: "alice") { ...E0 } } '
        + " ".join(
            f"fragment E{i} on Entity {{ ... on Entity {{ ...E{i + 1} }} ...E{i + 1} }}"
            for i in range(25)
        )
        + " fragment E25 on Entity { projects(first: 0) { totalCount } }",
    ],
    ids=["probe-22", "30-levels", "200-levels", "three-way", "ten-wide-tree", "typed-inline"],
)
async def test_fragment_fan_out_is_refused_in_linear_time(api: Api, key: str, query: str) -> None:
    answer = await refused_while_healthy(api, post(query), TOO_COMPLEX, key)
    # the field cap, or the repeat cap on one response key: whichever the walk hits first
    message = answer["errors"][0]["message"]
    assert "fields" in message or "times in one place" in message


def aliases(count: int, selection: str) -> str:
    return "query { " + " ".join(f"a{i}: {selection}" for i in range(count)) + " }"


FIRST_ZERO = 'project(entity: "alice", name: "p-public") { runs(first: 0) { totalCount } }'


@pytest.mark.parametrize(
    "query",
    [
        aliases(40_000, FIRST_ZERO),  # the probe's 2.9 MB
        aliases(1_000, FIRST_ZERO),  # 3,000 field selections in 72 KB
        aliases(2_100, "viewer { id }"),
        # across many root fields
        "query { "
        + " ".join(
            f'v{i}: viewer {{ id }} e{i}: entity(name: "x") {{ name }} '
            f'r{i}: run(path: "a/b/c") {{ id }}'
            for i in range(700)
        )
        + " }",
        # aliases of one connection: first: 0 still costs a node each
        'query { entity(name: "x") { '
        + " ".join(f"p{i}: projects(first: 0) {{ totalCount }}" for i in range(1_500))
        + " } }",
        # one response key many times: validation compares every pair (seconds before)
        "query { " + " ".join(f'a: entity(name: "x{i}") {{ name }}' for i in range(1_000)) + " }",
        "query { "
        + " ".join(f"...S{i}" for i in range(30))
        + " } "
        + " ".join(
            f'fragment S{i} on Query {{ a: entity(name: "x") {{ name }} }}' for i in range(30)
        ),
    ],
    ids=[
        "probe-40000",
        "first-zero-1000",
        "viewer-2100",
        "many-roots",
        "one-connection",
        "same-alias-1000",
        "same-alias-in-fragments",
    ],  # fmt: skip
)
async def test_alias_floods_are_refused(api: Api, key: str, query: str) -> None:
    await refused_while_healthy(api, post(query), TOO_COMPLEX, key)


@pytest.mark.parametrize(
    "query",
    [aliases(40_000, FIRST_ZERO), "{ viewer { id } } #" + "x" * 2_000_000],
    ids=["probe-40000", "long-comment"],
)
async def test_anonymous_bodies_past_1_mib_are_refused_unread(api: Api, query: str) -> None:
    answer = await answered_while_healthy(api, post(query), statuses=(413,))
    assert answer["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_field_selections_up_to_the_caps_run(api: Api) -> None:
    body = await api.gql(aliases(1_000, "viewer { id }"))  # 2,000 selections
    assert "errors" not in body, body
    twenty = "query { " + " ".join(["a: viewer { id }"] * 20) + " }"  # one key 20 times
    assert (await api.gql(twenty)) == {"data": {"a": None}}


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { id } } #" + "x" * 2_000_000,  # a 2 MB comment
        '{ entity(name: "' + "x" * 2_000_000 + '") { name } }',  # one 2 MB token
        "{ " + "viewer { id } " * 7_000 + "}",  # 21,000 tokens in 98 KB
    ],
    ids=["long-comment", "long-string", "many-tokens"],
)
async def test_big_documents_are_refused_before_they_are_parsed(
    api: Api, key: str, query: str
) -> None:
    await refused_while_healthy(api, post(query), TOO_COMPLEX, key)


async def test_many_distinct_documents_keep_the_parse_cache_bounded(settings: Settings) -> None:
    async with running_api(settings) as api:
        cache: DocumentCache = api.app.state.documents
        # documents just under the text limit, each distinct: parsed and run, not kept
        for i in range(20):
            query = f"# {i}\n" + "{ viewer { id } } #" + "x" * 95_000
            answer = await answered_while_healthy(api, post(query))
            assert answer == {"data": {"viewer": None}}
        assert cache.chars < 1_000
        # many small distinct documents: kept up to the byte bound, then evicted
        for i in range(400):
            body = await api.gql("{ viewer { id } } # " + f"{i:05d}" + "y" * 7_000)
            assert "errors" not in body
        assert cache.chars <= CACHE_TOTAL_CHARS
        assert len(cache) < 100


async def test_a_slow_request_is_stopped_at_the_deadline_and_changes_nothing(
    settings: Settings, make_user: Any, db: Any
) -> None:
    """A statement waiting on a lock stands in for any slow work: the request is answered
    with a code when its deadline passes, and its transaction is rolled back."""
    fast = dataclasses.replace(settings, request_timeout_seconds=2.0)
    async with running_api(fast) as api:
        user = await make_user()
        await api.ok(
            'mutation { upsertRun(input: {project: "p", runId: "r"}) { id } }', key=user.key
        )
        async with db.transaction() as conn:
            await conn.raw.execute(
                "SELECT 1 FROM runs r JOIN projects p ON p.id = r.project_id "
                "JOIN entities e ON e.id = p.entity_id WHERE e.name = $1 FOR UPDATE OF r",
                user.name,
            )
            started = time.perf_counter()
            body = await api.gql(UPDATE_RUN, {"r": f"{user.name}/p/r"}, key=user.key)
            elapsed = time.perf_counter() - started
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert "2 s" in body["errors"][0]["message"]
        assert elapsed < REFUSAL_SECONDS
        run = await api.ok(f'{{ run(path: "{user.name}/p/r") {{ summary }} }}', key=user.key)
        assert run["run"]["summary"] == {}  # nothing kept
        assert "errors" not in await api.gql("{ viewer { id } }", key=user.key)


async def test_a_statement_past_the_statement_timeout_is_coded(
    settings: Settings, make_user: Any, db: Any
) -> None:
    quick = dataclasses.replace(settings, statement_timeout_seconds=1.0)
    async with running_api(quick) as api:
        user = await make_user()
        await api.ok(
            'mutation { upsertRun(input: {project: "p", runId: "r"}) { id } }', key=user.key
        )
        async with db.transaction() as conn:
            await conn.raw.execute(
                "SELECT 1 FROM runs r JOIN projects p ON p.id = r.project_id "
                "JOIN entities e ON e.id = p.entity_id WHERE e.name = $1 FOR UPDATE OF r",
                user.name,
            )
            body = await api.gql(UPDATE_RUN, {"r": f"{user.name}/p/r"}, key=user.key)
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert "SELECT" not in body["errors"][0]["message"]
