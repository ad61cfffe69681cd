"""No N+1 anywhere: one generic test over schema.graphql.

For every type reachable under a connection, and every field of it that is not a plain
leaf (a connection, a list, an object), a query asks for that field on 2 parents and
then on 20, reached through the same path; the SQL round trips of the two requests must
be equal. The paths, fields and arguments come from the schema, so a field added later is
covered without anyone remembering to: only a new required argument needs a value in
``ARGUMENTS`` (the test says which).

Round trips are the app's own ``lineage_sql_queries_total`` read from /metrics around
each request (tests in a session run one at a time).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
    is_required_argument,
    is_union_type,
)

from tests.fixtures.artifacts import content, log_and_commit, sha
from tests.fixtures.service import Api, unique
from tests.resolvers.lineage.test_round_trips import count_queries

SCHEMA = build_schema((Path(__file__).resolve().parents[2] / "schema.graphql").read_text())
PARENTS = 20  # the data below has at least this many of every parent on its path
PAGE = 3  # the page each tested connection asks for


@dataclass(frozen=True)
class World:
    entity: str
    key: str


def arguments(world: World) -> dict[str, dict[str, str]]:
    """Values for required arguments, as GraphQL literals, by "Type.field"."""
    return {
        "Query.project": {"entity": json.dumps(world.entity), "name": '"p00"'},
        "Query.entity": {"name": json.dumps(world.entity)},
        "Entity.project": {"name": '"p00"'},
        "Project.artifactCollection": {"name": '"c00"'},
        "ArtifactCollection.version": {"alias": '"latest"'},
        "Sweep.bestRun": {"metric": '"acc"'},
    }


def _mutations(api: Api, key: str, fields: list[str]) -> Any:
    """Many mutation fields in one document (run one after the other, in order)."""
    body = " ".join(f"m{i}: {f}" for i, f in enumerate(fields))
    return api.ok(f"mutation {{ {body} }}", key=key)


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> World:
    """Entity W with projects p00..p19; p00 has sweeps s00..s19, runs r00..r19 (all in
    s00, r19 the newest), collections c00..c19; c00 has 20 versions (one logged by each
    run), r19 logged one version in each collection and used every version of c00."""
    user = await make_user("rt")
    e = json.dumps(user.name)
    n = PARENTS
    await _mutations(api, user.key, [
        f'createProject(input: {{entity: {e}, name: "p{i:02}"}}) {{ id }}' for i in range(n)
    ])  # fmt: skip
    await _mutations(api, user.key, [
        f'createSweep(input: {{entity: {e}, project: "p00", sweepId: "s{i:02}"}}) {{ id }}'
        for i in range(n)
    ])  # fmt: skip
    await _mutations(api, user.key, [
        f'upsertRun(input: {{entity: {e}, project: "p00", runId: "r{i:02}", sweep: "s00"}}) '
        "{ id }"
        for i in range(n)
    ])  # fmt: skip
    await _mutations(api, user.key, [
        f'updateRun(input: {{run: "{user.name}/p00/r{i:02}", summary: {{acc: {i}}}}}) {{ id }}'
        for i in range(n)
    ])  # fmt: skip
    held = content("round trips")
    await log_and_commit(api, user.key, f"{user.name}/p00/r00", "zz-seed", {"seed": held})
    digest = sha(held)

    def log(run: int, collection: int, tag: str) -> str:
        entries = ", ".join(
            f'{{path: "{p}", digest: "{digest}", size: {len(held)}}}'
            for p in ("a", f"b-{tag}", "c")
        )
        return (
            f'logArtifact(input: {{run: "{user.name}/p00/r{run:02}", name: "c{collection:02}", '
            f'type: "dataset", aliases: ["al-{tag}"], entries: [{entries}]}}) '
            "{ artifact { state } }"
        )

    logs = [log(i, 0, f"v{i}") for i in range(n)]
    logs += [log(n - 1, c, f"c{c}") for c in range(1, n)]
    await _mutations(api, user.key, logs)
    uses = [f"r{n - 1:02}:{v}" for v in range(n)] + [f"r{i:02}:{i - 1}" for i in range(1, n)]
    await _mutations(api, user.key, [
        f'useArtifact(input: {{run: "{user.name}/p00/{u.split(":")[0]}", '
        f'artifact: "{user.name}/p00/c00:v{u.split(":")[1]}"}}) {{ id }}'
        for u in uses
    ])  # fmt: skip
    return World(user.name, user.key)


# -- walking the schema ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    field: str
    args: tuple[tuple[str, str], ...]
    connection: bool  # the field is a connection: go through edges { node }


def _connection_node(field: GraphQLField) -> GraphQLObjectType | None:
    """The node type when ``field`` is a Relay connection."""
    named = get_named_type(field.type)
    edges = getattr(named, "fields", {}).get("edges")
    if not named.name.endswith("Connection") or edges is None:
        return None
    node = get_named_type(edges.type).fields["node"]
    target = get_named_type(node.type)
    return target if isinstance(target, GraphQLObjectType) else None


def _required(field: GraphQLField) -> list[str]:
    return [name for name, arg in field.args.items() if is_required_argument(arg)]


def _args_for(
    type_name: str, field_name: str, field: GraphQLField, values: dict[str, dict[str, str]]
) -> tuple[tuple[str, str], ...] | None:
    """The required arguments' literals, or None when the test has no value for one."""
    given = values.get(f"{type_name}.{field_name}", {})
    if any(name not in given for name in _required(field)):
        return None
    return tuple(sorted(given.items()))


def paths_under_a_connection(
    schema: GraphQLSchema, values: dict[str, dict[str, str]]
) -> dict[str, list[Step]]:
    """For each object type reachable through at least one connection, the shortest path
    from the query root (breadth first, over object fields and connections)."""
    query = schema.query_type
    assert query is not None
    found: dict[str, list[Step]] = {}
    seen: set[tuple[str, bool]] = set()
    queue: deque[tuple[GraphQLNamedType, bool, list[Step]]] = deque([(query, False, [])])
    while queue:
        parent, through, path = queue.popleft()
        for name, field in getattr(parent, "fields", {}).items():
            args = _args_for(parent.name, name, field, values)
            if args is None:
                continue
            node = _connection_node(field)
            if node is not None:
                target, step_through = node, True
            elif is_object_type(get_nullable_type(field.type)):
                target, step_through = get_named_type(field.type), through
            else:
                continue  # leaves, plain lists, interfaces (Query.node)
            state = (target.name, step_through)
            if state in seen:
                continue
            seen.add(state)
            step_path = [*path, Step(name, args, node is not None)]
            if step_through:
                found.setdefault(target.name, step_path)
            queue.append((target, step_through, step_path))
    return found


def _leaves(type_: GraphQLNamedType, alias: str = "") -> str:
    """Every leaf field (lists of leaves too) that takes no required argument; a union's
    members' fields aliased by type (their types may differ: String and String!)."""
    if is_union_type(type_):
        members = " ".join(f"... on {t.name} {{ {_leaves(t, t.name)} }}" for t in type_.types)
        return f"__typename {members}"
    leaves = " ".join(
        f"{alias}_{name}: {name}" if alias else name
        for name, field in type_.fields.items()  # type: ignore[attr-defined]
        if is_leaf_type(get_named_type(field.type)) and not _required(field)
    )
    # a type without leaves (Manifest) still needs a selection: "{ }" is not GraphQL
    # (graphql-core 3.3.2 parses it, 3.3.1 rightly refuses it)
    return leaves or "__typename"


def fields_to_check(
    schema: GraphQLSchema, values: dict[str, dict[str, str]]
) -> Iterator[tuple[str, str, str]]:
    """(parent type, field, its selection) for every field that is not a plain leaf: a
    connection, a list (of leaves or objects) or an object."""
    for type_name in paths_under_a_connection(schema, values):
        type_ = schema.get_type(type_name)
        for name, field in type_.fields.items():  # type: ignore[union-attr]
            nullable = get_nullable_type(field.type)
            named = get_named_type(field.type)
            if is_leaf_type(named) and not is_list_type(nullable):
                continue
            args = _args_for(type_name, name, field, values)
            assert args is not None, (
                f"give {type_name}.{name}'s required arguments a value in ARGUMENTS "
                f"(tests/resolvers/test_round_trips.py)"
            )
            rendered = dict(args)
            node = _connection_node(field)
            if node is not None:
                rendered["first"] = str(PAGE)
                selection = (
                    "{ totalCount pageInfo { hasNextPage endCursor } "
                    f"edges {{ cursor node {{ {_leaves(node)} }} }} }}"
                )
            elif is_leaf_type(named):
                selection = ""
            else:
                selection = f"{{ {_leaves(named)} }}"
            arg_text = ", ".join(f"{k}: {v}" for k, v in rendered.items())
            yield type_name, name, f"{name}{f'({arg_text})' if arg_text else ''} {selection}"


def render(path: list[Step], parents: int, inner: str) -> str:
    """The query reaching ``parents`` objects along ``path`` (its last connection asks for
    that many, any earlier one for 1) and selecting ``inner`` on each."""
    last = max(i for i, step in enumerate(path) if step.connection)
    text = inner
    for i, step in reversed(list(enumerate(path))):
        args = dict(step.args)
        if step.connection:
            args["first"] = str(parents if i == last else 1)
        arg_text = ", ".join(f"{k}: {v}" for k, v in args.items())
        body = f"edges {{ node {{ {text} }} }}" if step.connection else text
        text = f"{step.field}{f'({arg_text})' if arg_text else ''} {{ {body} }}"
    return f"{{ {text} }}"


def reached(data: Any, path: list[Step]) -> list[Any]:
    """The objects at the end of ``path`` in an answer."""
    found = [data]
    for step in path:
        found = [item[step.field] for item in found if item is not None]
        if step.connection:
            found = [edge["node"] for page in found for edge in page["edges"]]
    return found


# -- the test -----------------------------------------------------------------------------


async def test_round_trips_do_not_grow_with_the_number_of_parents(api: Api, world: World) -> None:
    values = arguments(world)
    paths = paths_under_a_connection(SCHEMA, values)
    # what this data covers; a type reached through a connection later is tested as is
    assert {"Entity", "Project", "Run", "Sweep", "ArtifactCollection", "Artifact"} <= set(paths)
    checked, grew = [], []
    for type_name, field, selection in fields_to_check(SCHEMA, values):
        path = paths[type_name]
        counts = []
        for parents in (2, PARENTS):
            query = render(path, parents, selection)
            n, data = await count_queries(api, query, {}, world.key)
            objects = reached(data, path)
            assert len(objects) == parents, (type_name, field, query, len(objects))
            assert all(field in o for o in objects), (type_name, field)
            counts.append(n)
        checked.append(f"{type_name}.{field}")
        if counts[0] != counts[1]:
            grew.append(f"{type_name}.{field}: {counts[0]} round trips for 2, {counts[1]} for 20")
    assert not grew, "\n".join(grew)
    # the fields the issue named, among all the others
    assert {
        "Project.runs", "Project.sweeps", "Project.artifactCollections", "ArtifactCollection.versions",
        "Manifest.entries", "Entity.projects", "Artifact.usedBy", "Run.loggedArtifacts",
        "LineageGraph.nodes", "Sweep.runs",
    } <= set(checked), checked  # fmt: skip


def test_every_required_argument_on_a_path_has_a_value() -> None:
    """A type that becomes unreachable (because a new required argument blocks its only
    path) would silently drop out of the test above."""
    world = World(unique("e"), "")
    paths = paths_under_a_connection(SCHEMA, arguments(world))
    assert "Manifest" in paths
    assert "LineageGraph" in paths
