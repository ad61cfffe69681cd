"""A request's objects are freed when it is answered, by reference counting: none is left
in a reference cycle for Python's cyclic collector (whose pauses grew with them)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from server.context import Context
from server.loaders import Loaders
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

QUERIES = [
    # artifact(path) with its read-ahead (the key looked up in its statement)
    """query($a: String!) { artifact(path: $a) { id loggedBy { runId }
         usedBy(first: 5) { totalCount edges { node { runId loggedArtifacts(first: 2) {
           edges { node { name } } } } } } } }""",
    # the key looked up first, loaders and graphql-core's own path for a root field
    """query($a: String!) { viewer { username } artifact(path: $a) { name
         lineage(direction: DOWNSTREAM, depth: 2) { nodes { __typename } } } }""",
    # a field error
    'query { artifact(path: "no path") { id } }',
]


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _ours(objects: list[Any]) -> list[str]:
    names = []
    for o in objects:
        cls = type(o)
        if cls in (Context, Loaders) or cls.__module__ == "resolvers.execution":
            names.append(cls.__qualname__)
    return names


async def test_a_request_leaves_no_cycles_behind(
    api: Api, make_user: Any, no_collector: None
) -> None:
    if not api.app.state.schema.direct:
        pytest.skip("strawberry's own execution path (LINEAGE_FAST_EXECUTION=0) keeps its cycles")
    user = await make_user("gc")
    lab = await Lab.open(api, user)
    lab.run("train", "eval").log("train", "model").use("eval", lab.art("model"))
    await lab.flush()
    for query in QUERIES:
        body = await api.gql(query, {"a": lab.art("model")}, user.key)
        assert body.get("data") is not None, body
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            left = _ours(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert left == [], (query, left)
