"""lineage_walk, the walk inside Postgres, against the version it replaced: migration 0010
changed how each hop keeps the nodes the viewer may read (projects looked up by id instead
of a join with every project) and must give the very same answers (the same nodes in the
same order, hop ends, edges in the same order, edge ends and truncated) for every start,
direction, depth, limit and viewer.

The function of migration 0009 is created here as it was (a session's temporary function,
so the shared test database keeps no trace of it) and both walk a random graph built
through the API: projects of a team, one of them private, with cross-project uses,
versions used by many runs, runs that use what came after them (cycles), and nodes reached
by paths of different lengths; and the same spread over projects of every visibility of
two teams and of the user, among many projects the graph does not use.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg
import pytest

from server.domain.sql import graph as graph_sql
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

OLD = "0009_lineage_walk_one_pass.sql"
DEPTHS = (0, 1, 2, 3, 5, 100)
LIMITS = (0, 1, 2, 3, 5, 8, 13, 10_000)  # 0: not from the API, but callable
# every (direction, depth, limit) of a start and viewer in one statement, as the service
# batches the walks of a request (server/domain/sql/graph.py)
WALKS = """SELECT w.nodes, w.hop_ends, w.edge_near, w.edge_far, w.edge_ends, w.truncated
             FROM unnest($1::text[], $2::int[], $3::int[]) WITH ORDINALITY AS s(dir, depth, lim, n)
            CROSS JOIN LATERAL {function}($4, $5, s.dir, s.depth, s.lim, $6::bigint[]) w
            ORDER BY s.n"""


@dataclass
class Graph:
    runs: list[int]  # row ids
    versions: list[int]
    team: int  # the entity id of the team owning the public and the private project
    other: int  # the entity id of the second team (projects of every visibility, if many)


async def random_graph(
    api: Api, user: Any, conn: asyncpg.Connection, seed: int, many: bool = False
) -> Graph:
    rng = random.Random(seed)
    team = await api.team_with(user, prefix="walkteam")
    other = await api.team_with(user, prefix="walkother")
    public = await Lab.open(api, user, "PUBLIC", entity=team)
    private = await Lab.open(api, user, "PRIVATE", entity=team)
    labs = [public] * 7 + [private] * 3
    if many:  # runs also in every visibility of both teams and the user's own projects
        labs = [public, private]
        for entity in (team, other, user.name):
            for visibility in ("PUBLIC", "PRIVATE", "OPEN"):
                labs.append(await Lab.open(api, user, visibility, entity=entity))
        for i in range(30):  # projects with nothing in them
            await Lab.open(api, user, ("PUBLIC", "PRIVATE", "OPEN")[i % 3],
                           entity=(team, other, user.name)[i % 3])  # fmt: skip
    runs = [(rng.choice(labs), f"r{i}") for i in range(40)]
    for lab, run in runs:
        lab.run(run)
    for lab in {id(lab): lab for lab in labs}.values():
        await lab.flush()
    queue = public  # every write below names its run's path, so one queue keeps the order
    artifacts: list[str] = []
    popular: list[str] = []  # used by many runs
    versions: dict[tuple[str, str], int] = {}  # (project, name) -> versions logged
    for lab, run in runs:
        path = lab.run_path(run)
        used = rng.sample(artifacts, min(len(artifacts), rng.randint(0, 3)))
        used += rng.sample(popular, min(len(popular), rng.randint(0, 2)))
        for artifact in dict.fromkeys(used):  # from either project
            queue.use(run, artifact, run=path)
        for _ in range(rng.randint(1, 3)):
            # mostly a new collection, sometimes a new version of one logged before
            mine = [name for project, name in versions if project == lab.project]
            name = rng.choice(mine) if mine and rng.random() < 0.2 else f"a{len(artifacts)}"
            queue.log(run, name, run=path)
            index = versions.get((lab.project, name), 0)
            versions[(lab.project, name)] = index + 1
            artifacts.append(lab.art(name, f"v{index}"))
            if rng.random() < 0.15:
                popular.append(artifacts[-1])
    for lab, run in rng.sample(runs, 8):  # uses of what was logged after the run: cycles
        for artifact in rng.sample(artifacts[-40:], 2):
            queue.use(run, artifact, run=lab.run_path(run))
    await queue.flush()
    of_team = "JOIN projects p ON p.id = x.project_id JOIN entities e ON e.id = p.entity_id"
    owners = [team, other, user.name]
    return Graph(
        runs=[r["id"] for r in await conn.fetch(
            f"SELECT x.id FROM runs x {of_team} WHERE e.name = ANY($1) ORDER BY x.id", owners)],
        versions=[r["id"] for r in await conn.fetch(
            f"SELECT x.id FROM artifact_versions x {of_team} WHERE e.name = ANY($1) ORDER BY x.id",
            owners)],
        team=await conn.fetchval("SELECT id FROM entities WHERE name = $1", team),
        other=await conn.fetchval("SELECT id FROM entities WHERE name = $1", other),
    )  # fmt: skip


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    old = resources.files("server.db").joinpath("migrations", OLD).read_text()
    assert "CREATE OR REPLACE FUNCTION lineage_walk(" in old
    await connection.execute(
        old.replace("CREATE OR REPLACE FUNCTION lineage_walk(", "CREATE FUNCTION pg_temp.old_walk(")
    )
    yield connection
    await connection.close()


def _hops(row: asyncpg.Record) -> list[list[int]]:
    """A walk's nodes by hop."""
    ends = [0, *row["hop_ends"]]
    return [row["nodes"][ends[i] : ends[i + 1]] for i in range(len(ends) - 1)]


def _back_edges(row: asyncpg.Record, hop: int) -> int:
    """How many edges of ``hop`` reach nodes found before it (of the kind it reaches)."""
    hops = _hops(row)
    ends = [0, *row["edge_ends"]]
    earlier = {n for i in range(hop + 1) if i % 2 == (hop + 1) % 2 for n in hops[i]}
    return sum(1 for far in row["edge_far"][ends[hop] : ends[hop + 1]] if far in earlier)


@pytest.mark.parametrize(("seed", "many"), [(1, False), (2, False), (3, True), (4, True)])
async def test_the_walk_answers_as_the_walk_it_replaced(
    api: Api, make_user: Any, conn: asyncpg.Connection, seed: int, many: bool
) -> None:
    graph = await random_graph(api, await make_user("walker"), conn, seed, many)
    assert len(graph.runs) == 40
    assert len(graph.versions) >= 60
    combos = [(d, depth, lim) for d in ("DOWNSTREAM", "UPSTREAM") for depth in DEPTHS
              for lim in LIMITS]  # fmt: skip
    columns = [list(c) for c in zip(*combos, strict=True)]
    new_walks = await conn.prepare(WALKS.format(function="lineage_walk"))
    old_walks = await conn.prepare(WALKS.format(function="pg_temp.old_walk"))
    compared = back = cut_with_back_edges = hidden = hidden_from_member = 0
    for kind, ids in (("Run", graph.runs), ("Artifact", graph.versions)):
        for start in ids:
            answers = []
            # an outsider, then a member of the first team, then of both (many projects)
            viewers = [[], [graph.team]] + ([[graph.team, graph.other]] if many else [])
            for members in viewers:
                args = (*columns, kind, start, members)
                new, old = await new_walks.fetch(*args), await old_walks.fetch(*args)
                assert [tuple(r) for r in new] == [tuple(r) for r in old], (kind, start, members)
                compared += len(new)
                answers.append([tuple(r) for r in new])
                whole = {
                    (d, depth): r
                    for (d, depth, lim), r in zip(combos, new, strict=True)
                    if lim > 100
                }
                for (d, depth, _), row in zip(combos, new, strict=True):
                    back += any(_back_edges(row, h) for h in range(len(row["edge_ends"])))
                    # cut by the limit inside a hop that also has edges back to older nodes
                    last = len(row["hop_ends"]) - 1
                    full = _hops(whole[(d, depth)])
                    cut = last < len(full) and len(_hops(row)[last]) < len(full[last])
                    cut_with_back_edges += cut and _back_edges(row, last - 1) > 0
            hidden += answers[0] != answers[1]
            hidden_from_member += answers[1] != answers[-1]
    assert compared == len(combos) * len(viewers) * (len(graph.runs) + len(graph.versions))
    # the graph has what makes a walk hard: edges back to nodes found at an earlier hop,
    # also in the hop where the limit cut the walk, and private nodes an outsider's walk
    # leaves out
    assert back > 100, back
    assert cut_with_back_edges > 10, cut_with_back_edges
    assert hidden > 10, hidden
    if many:  # and nodes of the second team's private project a member of the first can't see
        assert hidden_from_member > 10, hidden_from_member


# sql.graph.small_walk (the walk artifact(path) makes inside its own statement) in one
# direction for every (depth, limit) of a start, one row each, with the function's answer
# and, where small_walk bails, lineage_walk_from's from the walk it handed over ("f_")
def small_walks(direction: str) -> str:
    walk = graph_sql.small_walk("SELECT $3::bigint AS id, $2::text = 'Run' AS runs", direction)
    walk = walk.replace(":depth::int", "c.depth").replace(":lim::int", "c.lim")
    walk = walk.replace(":member_entity_ids::bigint[]", "$4::bigint[]")
    return f"""SELECT c.n, o.nodes, o.hop_ends, o.edge_near, o.edge_far, o.edge_ends,
                      o.truncated, w.*, f.nodes AS f_nodes, f.hop_ends AS f_hop_ends,
                      f.edge_near AS f_edge_near, f.edge_far AS f_edge_far,
                      f.edge_ends AS f_edge_ends, f.truncated AS f_truncated
                 FROM unnest($1::int[], $5::int[]) WITH ORDINALITY AS c(depth, lim, n)
                CROSS JOIN LATERAL
                      lineage_walk($2, $3, '{direction}', c.depth, c.lim, $4::bigint[]) o
                CROSS JOIN LATERAL ({walk}) w
                 LEFT JOIN LATERAL lineage_walk_from(
                      $2, $3, '{direction}', c.depth, c.lim, $4::bigint[], w.hop + 1, w.runs,
                      w.found, w.seen_runs, w.seen_versions, w.nodes, w.hop_ends, w.edge_near,
                      w.edge_far, w.edge_ends) f ON w.bail
                ORDER BY c.n"""


RESUMED = ("f_nodes", "f_hop_ends", "f_edge_near", "f_edge_far", "f_edge_ends", "f_truncated")


@pytest.mark.parametrize(("seed", "many"), [(5, False), (6, True)])
async def test_the_statements_own_walk_answers_as_the_function_or_leaves_it_the_walk(
    api: Api, make_user: Any, conn: asyncpg.Connection, seed: int, many: bool
) -> None:
    """Where small_walk does not bail, its answer is lineage_walk's, to the order of every
    array; it bails where the limit cuts a hop and where a hop reaches a project the viewer
    may not read, and lineage_walk_from, going on from the walk it hands over, answers as
    lineage_walk does from the start."""
    user = await make_user("smallwalker")
    graph = await random_graph(api, user, conn, seed, many)
    combos = [(depth, lim) for depth in DEPTHS for lim in LIMITS]
    depths, limits = ([c[i] for c in combos] for i in (0, 1))
    same = bailed = cut = private = resumed_hops = 0
    for d in ("DOWNSTREAM", "UPSTREAM"):
        walks = await conn.prepare(small_walks(d))
        for kind, ids in (("Run", graph.runs), ("Artifact", graph.versions)):
            for start in ids:
                viewers = [[], [graph.team]] + ([[graph.team, graph.other]] if many else [])
                bails = []
                for members in viewers:
                    rows = await walks.fetch(depths, kind, start, members, limits)
                    bails.append([r["bail"] for r in rows])
                    for (depth, lim), r in zip(combos, rows, strict=True):
                        if r["bail"]:
                            bailed += 1
                            resumed_hops += r["hop"] >= 0
                            assert tuple(r[c] for c in RESUMED) == tuple(r)[1:7], (
                                kind, start, members, d, depth, lim)  # fmt: skip
                            continue
                        new = (r["nodes"], r["hop_ends"], r["edge_near"], r["edge_far"],
                               r["edge_ends"], r["truncated"])  # fmt: skip
                        assert new == tuple(r)[1:7], (kind, start, members, d, depth, lim)
                        same += 1
                        cut += r["truncated"]
                # the outsider's walk reaches the private project where the member's does not
                private += sum(o and not m for o, m in zip(bails[0], bails[1], strict=True))
    assert same > 2_000, same
    assert bailed > 500, bailed
    assert resumed_hops > 100, resumed_hops  # handed over after hops of its own
    assert cut > 100, cut  # cut by the depth bound's last hop, walked by the statement
    assert private > 50, private


async def test_the_statements_own_walk_leaves_a_big_fan_to_the_function(
    api: Api, make_user: Any, conn: asyncpg.Connection
) -> None:
    """A version used by ROWS_WITH_WALK runs: small_walk bails before its first hop (it
    counts the edges first); one used by fewer, each run logging two versions, takes it
    past ROWS_WITH_WALK at the second hop, where it bails too. With one run fewer it does
    not, and answers as the function does."""
    user = await make_user("fanwalker")
    lab = await Lab.open(api, user, "PUBLIC")
    lab.run("src").log("src", "big").log("src", "mid").log("src", "small")
    for i in range(graph_sql.ROWS_WITH_WALK):
        lab.run(f"b{i}").use(f"b{i}", lab.art("big"))
    fan = graph_sql.ROWS_WITH_WALK // 3 + 1  # 1 + 3 * fan nodes: just past the cut
    for start, runs in (("mid", fan), ("small", fan - 1)):
        for i in range(runs):
            run = f"{start}{i}"
            lab.run(run).use(run, lab.art(start)).log(run, f"{run}a").log(run, f"{run}b")
    await lab.flush()
    walk = await conn.prepare(small_walks("DOWNSTREAM"))
    for name, bails in (("big", True), ("mid", True), ("small", False)):
        start = await conn.fetchval(
            """SELECT v.id FROM artifact_versions v JOIN artifact_collections c
                   ON c.id = v.collection_id WHERE c.project_id = $1 AND c.name = $2""",
            await conn.fetchval("SELECT id FROM projects WHERE name = $1", lab.project), name)  # fmt: skip
        r = await walk.fetchrow([20], "Artifact", start, [], [10_000])
        assert r is not None
        assert r["bail"] is bails, name
        if bails:  # handed over before its first hop (big) or after it (mid)
            assert r["hop"] == (-1 if name == "big" else 0), name
            assert tuple(r[c] for c in RESUMED) == tuple(r)[1:7], name
        if not bails:
            assert tuple(r)[1:7] == (r["nodes"], r["hop_ends"], r["edge_near"], r["edge_far"],
                                     r["edge_ends"], r["truncated"])  # fmt: skip
            assert len(r["nodes"]) == 1 + 3 * (fan - 1)
