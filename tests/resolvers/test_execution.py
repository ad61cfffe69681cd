"""resolvers.execution's FastExecutionContext answers exactly as graphql-core's normal path,
on a real lineage graph.

The fast path completes flat objects, and whole lists of them, without graphql-core's
per-field machinery. Each test runs the same document through the project's schema built
both ways (``LINEAGE_FAST_EXECUTION`` on and off) and compares ``data`` and the formatted
``errors``; a count of graphql-core's ``complete_value`` calls shows the fast path is
really taken. The fallbacks, on a small schema built for them, are in
test_execution_fallbacks.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import strawberry

from resolvers.schema import lineage_schema
from server.context import Context
from server.db.database import Database
from server.domain.accounts import authenticate
from server.settings import Settings
from tests.fixtures.service import Api, running_api
from tests.resolvers.differential import Outcome, count_completions, outcome
from tests.resolvers.lineage.lab import Lab, small_pipeline

# -- the project's schema on a real lineage graph -----------------------------------

NODES = """query($p: String!, $d: Int! = 10) { artifact(path: $p) { lineage(depth: $d) {
  truncated edges { source target kind }
  nodes { __typename
    ... on Run { id runId runName: name path runState: state createdAt config }
    ... on Artifact { id name version versionIndex path state size digest description } } } } }"""

QUERIES = {
    "nodes": NODES,
    "aliases": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      e: edges { k: kind from: source }
      n: nodes { t: __typename ... on Run { r: runId rs: state }
                 ... on Artifact { a: name v: version as: state t2: __typename } } } } }""",
    "resolver fields": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      edges { kind } nodes { ... on Run { runId project { name } } ... on Artifact { name version } }
    } } }""",
    "nested resolvers": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      nodes { ... on Artifact { name loggedBy { runId state } collection { name } } } } } }""",
    "fragments twice": """fragment R on Run { runId state }
      fragment A on Artifact { name version }
      query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
        nodes { ...R ...A ...R ... on Run { runId } ...A } } } }""",
    "directives": """query($p: String!, $yes: Boolean!) { artifact(path: $p) { lineage(depth: 10) {
      edges { kind @include(if: $yes) source @skip(if: true) }
      nodes { __typename @skip(if: false) ... on Run { runId state @include(if: false) }
              ... on Artifact @include(if: $yes) { name version @include(if: $yes) } } } } }""",
    "connections": """query($p: String!, $r: String!) {
      artifact(path: $p) { usedBy { totalCount edges { cursor node { runId name state } }
                                     pageInfo { hasNextPage endCursor } } }
      run(path: $r) { loggedArtifacts(first: 1) { edges { node { name version state } }
                                                  pageInfo { hasNextPage endCursor } }
                      project { runs { edges { node { runId path state } } } } } }""",
    "an error": """query($p: String!) { artifact(path: $p) { name lineage(depth: -1) {
      nodes { __typename } } } }""",
    # resolver fields selected on many objects: called in batches on the fast path
    "nested connections": """query($p: String!, $f: Int!) { artifact(path: $p) {
      loggedBy { runId loggedArtifacts(first: $f) { totalCount edges { node { name
        usedBy(first: 1) { totalCount edges { cursor node { runId } }
                           pageInfo { hasNextPage endCursor } } } } } }
      usedBy { edges { node { runId usedArtifacts { edges { node { name version
        loggedBy { runId project { name } } } } } } } } } }""",
    "batched errors": """query($p: String!) { artifact(path: $p) { lineage(depth: 10) {
      nodes { ... on Artifact { name usedBy(first: 5000) { edges { node { runId } } } }
              ... on Run { runId loggedArtifacts(after: "garbage") { totalCount } } } } } }""",
}


@pytest.fixture
async def lab(api: Api, make_user: Any) -> Lab:
    return await small_pipeline(api, await make_user("x"))


@pytest.mark.parametrize("name", QUERIES)
async def test_the_project_schema_answers_as_the_normal_path(
    name: str, lab: Lab, db: Database, settings: Settings
) -> None:
    viewer = await authenticate(db, f"Bearer {lab.key}")
    variables = {"p": lab.art("raw"), "r": lab.run_path("train"), "yes": True, "f": 2}

    async def run(schema: strawberry.Schema) -> Outcome:
        # a fresh context each time: loaders cache per request
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        return outcome(await schema.execute(QUERIES[name], variables, context_value=context))

    fast = await run(lineage_schema(fast_execution=True))
    assert await run(lineage_schema(fast_execution=False)) == fast
    assert fast[0], fast
    assert bool(fast[1]) == (name in ("an error", "batched errors")), fast


# requests the endpoint refuses after preparing the document: validation and variables
REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "unknown field": ("query($p: String!) { artifact(path: $p) { nope } }", {"p": "x"}),
    "missing variable": ("query($p: String!) { artifact(path: $p) { name } }", {}),
    "wrong variable type": (
        "query($p: String!, $d: Int!) { artifact(path: $p) { lineage(depth: $d) { truncated } } }",
        {"p": "x", "d": "deep"},
    ),
    "null for non-null": ("query($p: String!) { artifact(path: $p) { name } }", {"p": None}),
    "not found": ("query($p: String!) { artifact(path: $p) { name } }", {"p": "no/such/thing:v0"}),
    "two operations": ("query A { viewer { username } } query B { __typename }", {}),
}


@pytest.mark.parametrize("name", [*QUERIES, *REFUSED])
async def test_the_endpoint_executes_a_prepared_document_as_strawberry_does(
    name: str, lab: Lab, db: Database, settings: Settings
) -> None:
    """The served schema hands the endpoint's prepared document to graphql-core itself,
    without strawberry's per-request wrapper: the same data (keys in order) and errors as
    strawberry's execute on the plain schema, on a first and a later (cached) execution."""
    from server.http.documents import DocumentCache, prepare_document

    viewer = await authenticate(db, f"Bearer {lab.key}")
    if name in QUERIES:
        query = QUERIES[name]
        variables = {"p": lab.art("raw"), "r": lab.run_path("train"), "yes": True, "f": 2}
    else:
        query, variables = REFUSED[name]
    operation = "B" if name == "two operations" else None
    prepared = await prepare_document(query, DocumentCache())
    fast = lineage_schema(fast_execution=True)
    plain = lineage_schema(fast_execution=False)
    assert fast.direct
    assert not plain.direct

    def context() -> Context:
        return Context(db=db, viewer=viewer, settings=settings, request_id="t", document=prepared)

    expected = outcome(await plain.execute(query, variables, context(), operation_name=operation))
    for _ in range(2):
        got = await fast.execute_prepared(prepared, variables, context(), operation)
        assert outcome(got) == expected
    answered = ("not found", "two operations")
    errors = name in REFUSED or name in ("an error", "batched errors")
    assert bool(expected[1]) == (errors and name not in answered), expected
    # the plain schema's execute_prepared is strawberry's execute
    got = await plain.execute_prepared(prepared, variables, context(), operation)
    assert outcome(got) == expected


SHARED = """query($p: String!, $f: Int!) { artifact(path: $p) {
  name loggedBy { runId loggedArtifacts(first: $f) { edges { node { name version } } } }
  usedBy(first: $f) { edges { node { runId } } }
  lineage(depth: 10) { nodes { ... on Run { runId } ... on Artifact { name } } } } }"""


@pytest.mark.parametrize("directives", [False, True])
async def test_later_executions_of_a_cached_document_answer_as_the_normal_path(
    lab: Lab, db: Database, settings: Settings, directives: bool
) -> None:
    """The plans of a cached document serve its later executions: with other variables
    (arguments of batched fields), other paths and another viewer, each answer is still
    the normal path's. A document with directives plans each execution afresh."""
    from server.http.documents import DocumentCache, prepare_document

    query = SHARED
    if directives:
        query = query.replace("version }", "version @include(if: $yes) }").replace(
            "$f: Int!)", "$f: Int!, $yes: Boolean!)"
        )
    prepared = await prepare_document(query, DocumentCache())
    other = await authenticate(db, f"Bearer {lab.key}")
    runs = [
        ({"p": lab.art("raw"), "f": 1, "yes": True}, other),
        ({"p": lab.art("model", "v1"), "f": 2, "yes": False}, other),
        ({"p": lab.art("raw"), "f": 0, "yes": False}, None),
        ({"p": lab.art("raw"), "f": 5000, "yes": True}, other),  # BAD_USER_INPUT
        ({"p": lab.art("model"), "f": 3, "yes": True}, other),
    ]
    for variables, viewer in runs:
        answers = []
        for fast in (True, False):
            context = Context(
                db=db, viewer=viewer, settings=settings, request_id="t", document=prepared
            )
            schema = lineage_schema(fast_execution=fast)
            answers.append(outcome(await schema.execute(query, variables, context_value=context)))
        assert answers[0] == answers[1], variables
        assert bool(answers[0][1]) == (variables["f"] == 5000), answers[0]
    shared = [k for k in prepared.plans if k != "shareable"]
    assert prepared.plans["shareable"] is not directives
    assert bool(shared) is not directives


async def test_lineage_nodes_and_edges_take_the_fast_path(
    lab: Lab, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = await authenticate(db, f"Bearer {lab.key}")
    calls = count_completions(monkeypatch)

    async def count(depth: int, fast: bool = True) -> tuple[int, Any]:
        calls[0] = 0
        context = Context(db=db, viewer=viewer, settings=settings, request_id="t")
        variables = {"p": lab.art("raw"), "d": depth}
        schema = lineage_schema(fast_execution=fast)
        data, errors, _ = outcome(await schema.execute(NODES, variables, context_value=context))
        assert not errors
        return calls[0], data["artifact"]["lineage"]

    alone, start = await count(0)  # the start node only, no edges
    whole, graph = await count(10)
    assert (len(start["nodes"]), len(graph["nodes"]), len(graph["edges"])) == (1, 7, 7)
    # graphql-core completes nothing per node or edge: the lists were done in one go
    assert whole == alone
    assert (await count(10, fast=False))[0] > 10 * whole  # one call per node, edge and field


async def test_the_setting_turns_the_fast_path_off(
    lab: Lab, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LINEAGE_FAST_EXECUTION=0 reaches the served app: same answer, graphql-core's path."""
    assert Settings.from_env({"LINEAGE_FAST_EXECUTION": "0"}).fast_execution is False
    assert Settings.from_env({}).fast_execution is True
    with pytest.raises(ValueError, match="LINEAGE_FAST_EXECUTION"):
        Settings.from_env({"LINEAGE_FAST_EXECUTION": "maybe"})
    calls = count_completions(monkeypatch)
    answers = {}
    for fast in (True, False):
        async with running_api(dataclasses.replace(settings, fast_execution=fast)) as api:
            calls[0] = 0
            answers[fast] = await api.ok(NODES, {"p": lab.art("raw")}, key=lab.key), calls[0]
    assert answers[True][0] == answers[False][0]
    assert answers[False][1] > 10 * answers[True][1]
