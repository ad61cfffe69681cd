"""A walk of more than sql.graph.ROWS_WITH_WALK nodes reads its nodes' rows after it, in a
statement per kind, and makes the nodes' global ids while those run. A node whose row is
no longer readable by then (its project made private in between) is left out of the
answer with every edge that touches it, as if its global id had never been made."""

from __future__ import annotations

import asyncio
from typing import Any

from resolvers.schema import lineage_schema
from server.context import Context
from server.db.database import Database
from server.db.statements import Statement
from server.domain.accounts import authenticate
from server.domain.sql.graph import ROWS_WITH_WALK
from server.settings import Settings
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

QUERY = """query($p: String!) { artifact(path: $p) {
  lineage(direction: DOWNSTREAM, depth: 20, limit: 10000) { truncated
    nodes { __typename ... on Run { id runId path } ... on Artifact { id name version path } }
    edges { source target kind } } } }"""


class ChangedBeforeTheRows(Database):
    """A Database that runs ``change`` (committed, on a connection of its own) before the
    first node-rows statement is sent, and holds every such statement until it is done:
    a write that lands between the walk and the rows."""

    def __init__(self, db: Database, change: str, *args: object) -> None:
        super().__init__(db.pool)
        self.change, self.args = change, args
        self.changed: asyncio.Task[str] | None = None

    async def fetchrow(self, statement: Statement, /, **params: object) -> Any:
        if "array_agg" in statement.text and "ids" in params:
            if self.changed is None:
                self.changed = asyncio.ensure_future(self.pool.execute(self.change, *self.args))
            await self.changed
        return await super().fetchrow(statement, **params)


async def test_a_node_made_unreadable_after_the_walk_leaves_with_its_edges(
    api: Api, make_user: Any, db: Database, settings: Settings
) -> None:
    owner, outsider = await make_user("bw"), await make_user("bwo")
    kept, leaving = await Lab.open(api, owner, "PUBLIC"), await Lab.open(api, owner, "PUBLIC")
    kept.run("prep").log("prep", "hub")
    await kept.flush()
    hub = kept.art("hub")
    fan = ROWS_WITH_WALK // 4 + 1  # per lab: fan runs and their outputs
    for lab in (kept, leaving):
        lab.run(*(f"r{i}" for i in range(fan)))
        await lab.flush(parallel=True)
        for i in range(fan):
            lab.use(f"r{i}", hub).log(f"r{i}", f"o{i}")
        await lab.flush(parallel=True)

    viewer = await authenticate(db, f"Bearer {outsider.key}")
    before = await lineage_schema().execute(
        QUERY,
        {"p": hub},
        context_value=Context(db=db, viewer=viewer, settings=settings, request_id="t"),
    )
    assert not before.errors, before.errors
    assert before.data is not None
    whole = before.data["artifact"]["lineage"]
    assert len(whole["nodes"]) == 1 + 4 * fan > ROWS_WITH_WALK

    gone = f"{leaving.entity}/{leaving.project}/"
    remaining = [n for n in whole["nodes"] if not n["path"].startswith(gone)]
    ids = {n["id"] for n in remaining}
    expected = {
        "truncated": whole["truncated"],
        "nodes": remaining,
        "edges": [e for e in whole["edges"] if e["source"] in ids and e["target"] in ids],
    }
    assert len(remaining) == 1 + 2 * fan
    assert len(expected["edges"]) == 2 * fan

    visibility = "UPDATE projects SET visibility = $1 WHERE name = $2"
    answers = []
    for fast in (True, False):
        await db.pool.execute(visibility, "PUBLIC", leaving.project)
        racing = ChangedBeforeTheRows(db, visibility, "PRIVATE", leaving.project)
        context = Context(db=racing, viewer=viewer, settings=settings, request_id="t")
        result = await lineage_schema(fast_execution=fast).execute(
            QUERY, {"p": hub}, context_value=context
        )
        assert racing.changed is not None
        assert racing.changed.done()
        assert not result.errors, result.errors
        assert result.data is not None
        answers.append(result.data["artifact"]["lineage"])
    assert answers == [expected, expected]
