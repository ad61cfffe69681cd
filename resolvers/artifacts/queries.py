from __future__ import annotations

from typing import Any, NamedTuple

import strawberry
from graphql import (
    FieldNode,
    GraphQLObjectType,
    Undefined,
    get_named_type,
    value_from_ast_untyped,
)

from resolvers.artifacts.types import Artifact
from resolvers.document_facts import uses_variables
from resolvers.info import Info
from resolvers.lineage.fields import node_fields_of
from resolvers.selection import DOCUMENTS, below, fields_of
from server.domain import artifact_lineage, artifacts, graph, lineage
from server.domain.lineage import HopKey, OutputsWanted
from server.domain.names import parse_artifact_path
from server.domain.pagination import page_args
from server.errors import BadUserInput
from server.loaders import LineageKey, LineageRows


@strawberry.type
class ArtifactQueries:
    @strawberry.field(
        description='Path "[entity/]project/name:alias" or "[entity/]project/name:vN"; the entity defaults to the viewer\'s default entity.'
    )
    async def artifact(self, info: Info, path: str) -> Artifact | None:
        context = info.context
        producer, wanted = _reads_ahead(info)
        key_hash = context.pending_key
        if key_hash is not None and parse_artifact_path(path).entity is None:
            await context.authenticate()  # the entity defaults to the viewer's
            key_hash = None
        if wanted is not None:
            return await _with_first_pages(info, path, producer, *wanted, key_hash=key_hash)
        walk = _lineage_ahead(info)
        if walk is not None:
            return await _with_lineage(info, path, producer, walk, key_hash)
        if key_hash is not None:
            # the API key is looked up by the version's statement (the endpoint leaves
            # it to this field when it is the operation's only one)
            holder, row, found = await artifacts.find_artifact_as_key_holder(
                context.db, key_hash, path, producer=producer
            )
            context.settle(holder)
        elif not producer:
            row = await artifacts.find_artifact(context.db, context.viewer, path)
            return Artifact.of(row) if row else None
        else:
            row, found = await artifacts.find_artifact_and_producer(
                context.db, context.viewer, path
            )
        if row is None:
            return None
        # loggedBy is selected: the producer comes in the same round trip, and its loader
        # answers from it (None when the viewer may not read it, as the loader would)
        if producer:
            context.loaders.run_by_id.prime(row.logged_by, found)
        return Artifact.of(row)


async def _with_first_pages(
    info: Info,
    path: str,
    producer: bool,
    first: int,
    documents: bool,
    outputs: OutputsWanted | None,
    key_hash: bytes | None = None,
) -> Artifact | None:
    """The version, and in the same round trip the first pages its usedBy (and their
    loggedArtifacts) will ask for: the loaders are primed under exactly the keys those
    fields' resolvers load (resolvers/connections.py hop_connections), so a guess that
    misses a key only costs the statement's extra rows, never a wrong answer."""
    context = info.context
    found = await lineage.find_artifact_with_hops(
        context.db, None if key_hash is not None else context.viewer, path, producer=producer,
        used_by_first=first, used_by_documents=documents, outputs=outputs, key_hash=key_hash,
    )  # fmt: skip
    if key_hash is not None:
        context.settle(found.viewer)  # UNAUTHENTICATED for a wrong or revoked key
    row = found.artifact
    if row is None:
        return None
    loaders = context.loaders
    if producer:
        loaders.run_by_id.prime(row.logged_by, found.producer)
    loaders.used_by_page.prime(HopKey(row.id, first, None, None, documents), found.used_by)
    if outputs is not None:
        for run_id, page in found.outputs.items():
            key = HopKey(run_id, outputs.first, None, outputs.type, outputs.documents)
            loaders.logged_artifacts_page.prime(key, page)
    return Artifact.of(row)


async def _with_lineage(
    info: Info, path: str, producer: bool, walk: LineageAhead, key_hash: bytes | None
) -> Artifact | None:
    """The version, and in the same round trip the lineage its lineage field will ask
    for, with the rows of its nodes: the lineage loader is primed under exactly the key
    that field's resolver loads (resolvers/lineage/fields.py lineage_graph), so a guess
    that misses only costs the statement's walk, never a wrong answer."""
    context = info.context
    found = await artifact_lineage.find_artifact_with_lineage(
        context.db, None if key_hash is not None else context.viewer, path, producer=producer,
        direction=walk.direction, depth=walk.depth, limit=walk.limit,
        run_read=walk.run_read, artifact_read=walk.artifact_read, key_hash=key_hash,
    )  # fmt: skip
    if key_hash is not None:
        context.settle(found.viewer)  # UNAUTHENTICATED for a wrong or revoked key
    row = found.artifact
    if row is None or found.graph is None:
        return None
    loaders = context.loaders
    if producer:
        loaders.run_by_id.prime(row.logged_by, found.producer)
    request = graph.LineageRequest((graph.ARTIFACT, row.id), walk.direction, walk.depth, walk.limit)
    loaders.lineage.prime(
        LineageKey(request, walk.run_read, walk.artifact_read),
        LineageRows(found.graph, found.runs, found.artifacts),
    )
    return Artifact.of(row)


class LineageAhead(NamedTuple):
    """The one walk a lineage field right under artifact(path) will ask for."""

    direction: str
    depth: int
    limit: int
    run_read: frozenset[str]
    artifact_read: frozenset[str]


# the lineage fields (under one response key) and the row fields of their nodes
_LineageShape = tuple[tuple[FieldNode, ...], frozenset[str], frozenset[str]] | None


def _lineage_ahead(info: Info) -> LineageAhead | None:
    """The walk of the selection's lineage field when there is exactly one (under one
    response key, with the same arguments), going UPSTREAM or DOWNSTREAM with valid
    bounds; None otherwise (BOTH, several lineage fields, bad arguments: its resolver
    loads it, and reports the errors, as before). Its shape depends on the document
    alone and is kept with it; the arguments are read each time (they may be variables)."""
    raw = info._raw_info
    memo = getattr(info.context.document, "selections", None)
    key = ("artifact(path) reads the lineage ahead", tuple(map(id, raw.field_nodes)))
    shape: _LineageShape
    if memo is not None and key in memo:
        shape = memo[key]
    else:
        shape = _lineage_shape(raw)
        if memo is not None:
            memo[key] = shape
    if shape is None:
        return None
    fields, run_read, artifact_read = shape
    artifact_type = get_named_type(raw.return_type)
    if not isinstance(artifact_type, GraphQLObjectType):
        return None
    definition = artifact_type.fields["lineage"]
    found = None
    for field in fields:  # merged fields take the same arguments: checked all the same
        args = {
            name: _argument(raw, field, name, argument.default_value)
            for name, argument in definition.args.items()
        }
        if found is not None and args != found:
            return None
        found = args
    assert found is not None
    direction = getattr(found.get("direction"), "value", found.get("direction"))
    depth, limit = found.get("depth"), found.get("limit")
    if direction not in ("UPSTREAM", "DOWNSTREAM"):
        return None
    if type(depth) is not int or type(limit) is not int:
        return None
    try:
        graph.check_bounds(depth, limit)
    except BadUserInput:
        return None  # its resolver reports it
    return LineageAhead(direction, depth, limit, run_read, artifact_read)


def _lineage_shape(raw: Any) -> _LineageShape:
    fields = [f for f in fields_of(raw, below(raw.field_nodes)) if f.name.value == "lineage"]
    if not fields or len({_response_key(f) for f in fields}) != 1:
        return None
    return (tuple(fields), *node_fields_of(raw, fields))


ReadAhead = tuple[bool, tuple[int, bool, OutputsWanted | None] | None]


def _reads_ahead(info: Info) -> ReadAhead:
    """(whether loggedBy is selected, what _first_pages reads ahead). Without usedBy, or
    without variables in the selection's arguments, it depends on the document alone,
    and is kept with the (cached) document by the field's nodes, as
    resolvers/selection.py keeps its answers. (Looking for variables took a lineage
    query, whose arguments are variables, 50 us a request.)"""
    raw = info._raw_info
    memo = getattr(info.context.document, "selections", None)
    key = ("artifact(path) reads ahead", tuple(map(id, raw.field_nodes)))
    found: ReadAhead | None = None if memo is None else memo.get(key)
    if found is None:
        below_nodes = below(raw.field_nodes)
        selected = list(fields_of(raw, below_nodes))
        found = (any(f.name.value == "loggedBy" for f in selected), _first_pages(raw, selected))
        if memo is not None and (
            not any(f.name.value == "usedBy" for f in selected)
            or not _uses_variables(raw, below_nodes)
        ):
            memo[key] = found
    return found


def _uses_variables(raw: Any, selections: list[Any]) -> bool:
    """Whether these selections (through the fragments they spread) hold a variable:
    found once per cached document (resolvers/document_facts.py)."""
    memo = getattr(getattr(raw.context, "document", None), "selections", None)
    return uses_variables(raw, selections, memo)


def _argument(raw: Any, field: FieldNode, name: str, default: Any = None) -> Any:
    """An argument's value as the resolver will get it (``default`` when absent, or a
    variable given no value; an enum's value by its name or as the enum)."""
    for argument in field.arguments or ():
        if argument.name.value == name:
            value = value_from_ast_untyped(argument.value, raw.variable_values)
            return default if value is Undefined else value
    return default


def _first_page(raw: Any, fields: list[FieldNode], typed: bool) -> tuple[int, str | None] | None:
    """(first, type) of the first of ``fields`` (a connection field by its name, under
    any alias) asking for a first page (no ``after``) with valid arguments."""
    for field in fields:
        first = _argument(raw, field, "first")
        type_ = _argument(raw, field, "type") if typed else None
        if _argument(raw, field, "after") is not None:
            continue
        if not isinstance(first, int | None) or not isinstance(type_, str | None):
            continue
        try:
            args = page_args(first, None)
        except BadUserInput:
            continue  # its resolver reports it
        return args.first, type_
    return None


def _response_key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


def _nodes(raw: Any, fields: list[FieldNode]) -> list[FieldNode]:
    """The fields selected on the nodes of these connection fields (as
    resolvers.selection.selects_documents reads them)."""
    edges = [f for f in fields_of(raw, below(fields)) if f.name.value == "edges"]
    nodes = [f for f in fields_of(raw, below(edges)) if f.name.value == "node"]
    return list(fields_of(raw, below(nodes)))


def _first_pages(
    raw: Any, selected: list[FieldNode]
) -> tuple[int, bool, OutputsWanted | None] | None:
    """What artifact(path)'s selection will load of usedBy's first page (first, whether
    its nodes read JSON documents) and of those consumers' loggedArtifacts first pages;
    None when it asks for no first page of usedBy."""
    used_by = [f for f in selected if f.name.value == "usedBy"]
    chosen = _first_page(raw, used_by, typed=False)
    if chosen is None:
        return None
    first = chosen[0]
    # the field nodes the chosen field's resolver sees: those under its response key
    key = next(_response_key(f) for f in used_by if _first_page(raw, [f], False) == chosen)
    group = [f for f in used_by if _response_key(f) == key]
    on_nodes = _nodes(raw, group)
    documents = any(f.name.value in DOCUMENTS for f in on_nodes)
    logged = [f for f in on_nodes if f.name.value == "loggedArtifacts"]
    found = _first_page(raw, logged, typed=True)
    if found is None or first == 0:
        return first, documents, None
    out_key = next(_response_key(f) for f in logged if _first_page(raw, [f], True) == found)
    out_group = [f for f in logged if _response_key(f) == out_key]
    out_documents = any(f.name.value in DOCUMENTS for f in _nodes(raw, out_group))
    return first, documents, OutputsWanted(found[0], found[1], out_documents)
