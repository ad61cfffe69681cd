"""The probe's input classes, run over the whole schema rather than the cases it found.

For every String or ID argument of every field (input object fields and list items
included), reached through a small world where every object exists: a NUL character is
BAD_USER_INPUT, and an oversized value is answered without INTERNAL or a bare 500. For
every ID and cursor argument: garbage and base64 of deeply nested JSON are the same.
Each request carries every other argument it needs, so the value travels as far into the
resolvers as a real client's would.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)

from resolvers.schema import lineage_schema
from tests.fixtures.artifacts import log_and_commit
from tests.fixtures.service import Api, unique

SCHEMA = lineage_schema()._schema
NUL = "a\x00b"
OVERSIZED = "x" * 100_000


def nested_cursor(depth: int) -> str:
    raw = ("[" * depth + "]" * depth).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GARBAGE_IDS = {
    "garbage": "!!not an id!!",
    "nested-json": nested_cursor(1500),
    "huge-number": base64.urlsafe_b64encode(b"Artifact:" + b"9" * 40).decode(),
    "oversized": "A" * 100_000,
}


@dataclass(frozen=True)
class Target:
    """A String/ID leaf of an argument: field ``field`` of ``parent``, argument ``arg``,
    then ``inner`` (input field names, "[]" for a list item) down to the leaf."""

    parent: str
    field: str
    arg: str
    inner: tuple[str, ...]
    leaf: str  # "String" or "ID"

    @property
    def id(self) -> str:
        return ".".join((self.parent, self.field, self.arg, *self.inner))

    @property
    def is_cursor(self) -> bool:
        return self.arg == "after"


def _leaves(
    type_: GraphQLInputType, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        yield from _leaves(nullable.of_type, (*path, "[]"))
        return
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            yield from _leaves(field.type, (*path, name))
    elif named.name in ("String", "ID"):
        yield path, named.name


def targets() -> list[Target]:
    found = []
    for type_ in SCHEMA.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                for inner, leaf in _leaves(arg.type):
                    found.append(Target(type_.name, field_name, arg_name, inner, leaf))
    return found


TARGETS = targets()


# -- a world in which every object exists ------------------------------------------------


@pytest.fixture(scope="module")
async def world(api: Api, make_user: Any) -> dict[str, Any]:
    user = await make_user("g")
    project = unique("p")
    await api.ok(
        'mutation($p: String!) { createSweep(input: {project: $p, sweepId: "s"}) { id } }',
        {"p": project},
        key=user.key,
    )
    upsert = """mutation($p: String!) { upsertRun(input: {project: $p, runId: "r", sweep: "s"})
                { id } }"""
    await api.ok(upsert, {"p": project}, key=user.key)
    run = f"{user.name}/{project}/r"
    data = b"generic inputs"
    artifact = await log_and_commit(api, user.key, run, "ds", {"f": data}, aliases=["best"])
    return {
        "key": user.key,
        "entity": user.name,
        "project": project,
        "run": run,
        "sweep": f"{user.name}/{project}/s",
        "artifact": f"{user.name}/{project}/ds:v0",
        "artifact_id": artifact["id"],
        "digest": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def arg_value(parent: str, field: str, arg: str, type_: GraphQLInputType, w: dict[str, Any]) -> Any:
    """A valid value for an argument in the world (None: leave it out)."""
    by_place = {
        ("Query", "entity", "name"): w["entity"],
        ("Query", "project", "entity"): w["entity"],
        ("Query", "project", "name"): w["project"],
        ("Query", "run", "path"): w["run"],
        ("Query", "sweep", "path"): w["sweep"],
        ("Query", "artifact", "path"): w["artifact"],
        ("Query", "node", "id"): w["artifact_id"],
        ("Entity", "project", "name"): w["project"],
        ("Project", "artifactCollection", "name"): "ds",
        ("ArtifactCollection", "version", "alias"): "latest",
        ("Sweep", "bestRun", "metric"): "acc",
        ("Mutation", "createTeam", "name"): unique("team"),
        ("Mutation", "addTeamMember", "team"): w["entity"],
        ("Mutation", "addTeamMember", "username"): w["entity"],
    }
    if (parent, field, arg) in by_place:
        return by_place[(parent, field, arg)]
    return input_value(arg, type_, w)


def input_value(name: str, type_: GraphQLInputType, w: dict[str, Any]) -> Any:
    nullable = get_nullable_type(type_)
    required = isinstance(type_, GraphQLNonNull)
    if isinstance(nullable, GraphQLList):
        item = input_value(name, nullable.of_type, w)
        return [item] if item is not None else []
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        if named.name == "ManifestEntryInput":
            return {"path": "f", "digest": w["digest"], "size": w["size"]}
        fields = {
            field_name: input_value(field_name, field.type, w)
            for field_name, field in named.fields.items()
        }
        return {k: v for k, v in fields.items() if v is not None}
    by_name = {"run": w["run"], "entity": w["entity"], "project": w["project"],
               "artifact": w["artifact"], "id": w["artifact_id"], "sweep": "s",
               "type": "dataset", "field": "createdAt", "name": unique("n")}  # fmt: skip
    if name in by_name:
        return by_name[name]
    if not required:
        return None
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    return {"String": "x", "ID": w["artifact_id"], "Int": 1, "Int64": 1, "Boolean": False,
            "JSON": {}}[named.name]  # fmt: skip


def with_leaf(value: Any, inner: tuple[str, ...], leaf: Any, type_: GraphQLInputType) -> Any:
    """``value`` with the leaf at ``inner`` set to ``leaf`` (made where it is missing)."""
    if not inner:
        return leaf
    step, rest = inner[0], inner[1:]
    nullable = get_nullable_type(type_)
    if step == "[]":
        assert isinstance(nullable, GraphQLList)
        items = list(value or [None])
        items[0] = with_leaf(items[0], rest, leaf, nullable.of_type)
        return items
    named = get_named_type(type_)
    assert isinstance(named, GraphQLInputObjectType)
    out = dict(value or {})
    out[step] = with_leaf(out.get(step), rest, leaf, named.fields[step].type)
    return out


# -- routes from the root to an object of each type ---------------------------------------


def route_to(type_name: str, w: dict[str, Any]) -> tuple[list[str], dict[str, Any]] | None:
    """(selection prefixes from Query down to an object of ``type_name``, variables)."""
    if type_name in ("Query", "Mutation"):
        return [], {}
    frontier: list[tuple[str, list[str], dict[str, Any]]] = [("Query", [], {})]
    seen = {"Query"}
    while frontier:
        current, steps, variables = frontier.pop(0)
        parent = SCHEMA.get_type(current)
        assert isinstance(parent, GraphQLObjectType)
        for field_name, field in parent.fields.items():
            if (current, field_name) == ("Query", "node"):
                continue  # it holds the world's artifact: "... on Run" would select nothing
            call, call_vars = _call(current, field_name, field, w, len(variables))
            for concrete, extra in _objects_of(get_named_type(field.type)):
                if concrete.name in seen:
                    continue
                seen.add(concrete.name)
                route = [*steps, call + " {" + extra]
                merged = {**variables, **call_vars}
                if concrete.name == type_name:
                    return route, merged
                frontier.append((concrete.name, route, merged))
    return None


def _objects_of(named: GraphQLNamedType) -> Iterator[tuple[GraphQLObjectType, str]]:
    """The object types a field of this type leads to, with the selection that opens
    them: ``edges { node {`` through a connection, ``... on X {`` into an abstract type."""
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Connection"):
        edge = get_named_type(named.fields["edges"].type)
        assert isinstance(edge, GraphQLObjectType)
        for concrete, opening in _objects_of(get_named_type(edge.fields["node"].type)):
            yield concrete, " edges { node {" + opening
    elif isinstance(named, GraphQLObjectType):
        yield named, ""
    elif isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)):
        for concrete in SCHEMA.get_possible_types(named):
            yield concrete, f" ... on {concrete.name} {{"


def _call(
    parent: str, field_name: str, field: GraphQLField, w: dict[str, Any], offset: int
) -> tuple[str, dict[str, Any]]:
    args, variables = [], {}
    for i, (arg_name, arg) in enumerate(field.args.items()):
        value = arg_value(parent, field_name, arg_name, arg.type, w)
        if value is None:
            continue
        var = f"v{offset + i}"
        args.append(f"{arg_name}: ${var}")
        variables[var] = (value, str(arg.type))
    return field_name + (f"({', '.join(args)})" if args else ""), variables


def operation_for(target: Target, leaf: Any, w: dict[str, Any]) -> dict[str, Any]:
    routed = route_to(target.parent, w)
    assert routed is not None, f"no route to {target.parent}"
    steps, variables = routed
    parent = SCHEMA.get_type(target.parent)
    assert isinstance(parent, GraphQLObjectType)
    field = parent.fields[target.field]
    call_vars: dict[str, Any] = {}
    args = []
    for i, (arg_name, arg) in enumerate(field.args.items()):
        value = arg_value(target.parent, target.field, arg_name, arg.type, w)
        if arg_name == target.arg:
            value = with_leaf(value, target.inner, leaf, arg.type)
        if value is None:
            continue
        var = f"t{i}"
        args.append(f"{arg_name}: ${var}")
        call_vars[var] = (value, str(arg.type))
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    innermost = f"{target.field}({', '.join(args)}){selection}"
    body = innermost
    for step in reversed(steps):
        closing = " }" * step.count("{")
        body = f"{step} {body}{closing}"
    all_vars = {**variables, **call_vars}
    declared = ", ".join(f"${k}: {t}" for k, (_, t) in all_vars.items())
    kind = "mutation" if target.parent == "Mutation" else "query"
    query = f"{kind}{f'({declared})' if declared else ''} {{ {body} }}"
    return {"query": query, "variables": {k: v for k, (v, _) in all_vars.items()}}


async def answer_for(api: Api, w: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.post(
        "/graphql",
        content=json.dumps(payload),
        headers={"authorization": f"Bearer {w['key']}", "content-type": "application/json"},
    )
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    assert response.headers.get("x-request-id")
    body: dict[str, Any] = response.json()
    codes = [e["extensions"]["code"] for e in body.get("errors", ())]
    assert not {"INTERNAL", "UNAVAILABLE"} & set(codes), (payload["query"], body)
    return body


def test_every_string_argument_is_covered() -> None:
    """The generic checks reach every String/ID argument leaf the schema has."""
    fields = {(t.parent, t.field) for t in TARGETS}
    assert {("Mutation", "logArtifact"), ("Sweep", "bestRun"), ("Manifest", "entries")} <= fields
    assert len(TARGETS) > 50


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
async def test_nul_in_any_string_argument_is_bad_input(
    api: Api, world: dict[str, Any], target: Target
) -> None:
    body = await answer_for(api, world, operation_for(target, NUL, world))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
async def test_an_oversized_string_argument_is_never_internal(
    api: Api, world: dict[str, Any], target: Target
) -> None:
    await answer_for(api, world, operation_for(target, OVERSIZED, world))


@pytest.mark.parametrize("garbage", sorted(GARBAGE_IDS))
@pytest.mark.parametrize(
    "target", [t for t in TARGETS if t.leaf == "ID" or t.is_cursor], ids=lambda t: t.id
)
async def test_garbage_ids_and_cursors_are_never_internal(
    api: Api, world: dict[str, Any], target: Target, garbage: str
) -> None:
    body = await answer_for(api, world, operation_for(target, GARBAGE_IDS[garbage], world))
    if target.is_cursor:
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def test_the_world_reaches_every_type_with_arguments() -> None:
    w = {"entity": "e", "project": "p", "run": "e/p/r", "sweep": "e/p/s", "artifact": "e/p/a:v0",
         "artifact_id": "QXJ0aWZhY3Q6MQ", "digest": "a" * 64, "size": 1}  # fmt: skip
    for parent in {t.parent for t in TARGETS}:
        assert route_to(parent, w) is not None, parent
