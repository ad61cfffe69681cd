"""Resolver fields batched by the fast executor (resolvers/execution.py).

A resolver field selected on the objects of one completion (a page's 50 runs each asking
for ``loggedArtifacts(first: 10)``) is called once for all of them: through its batch form
where the field names one (``BATCH_RESOLVER`` in its metadata, resolvers/fields.py), else
through its own resolver per object, without graphql-core's per-field work. While an
object completes, each batched field leaves a ``Deferred`` in ``COLLECTED``; the executor
then calls each batch and completes its results. Anything short of a clean answer raises
``Fallback``, and the executor takes graphql-core's path for that object or list.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_named_type
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.document_facts import has_variables
from resolvers.execution_guard import STRAWBERRY_DEFINITION
from resolvers.fields import BATCH_RESOLVER
from resolvers.together import together

if TYPE_CHECKING:
    from resolvers.completion import Step


class Fallback(Exception):
    """A nested object or list needs the normal path: so does the object holding it."""


# argument types whose values strawberry passes to resolvers as graphql-core coerced them
SIMPLE_ARGUMENTS = frozenset({"Int", "Float", "String", "Boolean", "ID"})


class Batch:
    """A resolver field selected on the objects of one completion (a page's 50 runs each
    asking for ``loggedArtifacts(first: 10)``): its resolver is called for all of them at
    once, with arguments read once, then each result is completed like a plain field's
    value. graphql-core would build resolve info, read and convert the arguments, and
    await and complete the result separately for every object. A batch belongs to a plan,
    which later executions of the same document may share: what depends on the request
    (its info, its variables' values) is bound by each execution (``bind``)."""

    __slots__ = (
        "key", "parent", "node", "field_def", "definition", "batch_resolver", "complete",
        "nullable", "_constant",
    )  # fmt: skip

    def __init__(
        self,
        key: str,
        parent: GraphQLObjectType,
        field_def: Any,
        definition: Any,
        node: Any,
        complete: Callable[[Any], Any],
        nullable: bool,
    ) -> None:
        self.key = key
        self.parent = parent
        self.field_def = field_def
        self.definition = definition
        self.node = node
        self.batch_resolver = (definition.metadata or {}).get(BATCH_RESOLVER)
        self.complete = complete
        self.nullable = nullable
        # the arguments by their Python names, when no variable is among them: the same
        # for every execution (made on the first)
        self._constant: dict[str, Any] | None = None

    def bind(self, executor: StrawberryGraphQLCoreExecutionContext) -> dict[str, Any]:
        """The resolver's keyword arguments in this execution (its arguments by their
        Python names, and its info)."""
        if self._constant is not None:
            kwargs = dict(self._constant)
        else:
            kwargs = {}
            if self.field_def.args or self.node.arguments:
                values = get_argument_values(self.field_def, self.node, executor.variable_values)
                args = self.field_def.args
                for name, value in values.items():
                    kwargs[args[name].extensions[STRAWBERRY_DEFINITION].python_name] = value
            if not has_variables(self.node.arguments or ()):
                self._constant = dict(kwargs)  # simple scalars (SIMPLE_ARGUMENTS): immutable
        resolver = self.definition.base_resolver
        info_name = "info" if self.batch_resolver is not None else resolver.info_parameter
        if info_name is not None:
            path = Path(None, self.key, self.parent.name)
            raw = executor.build_resolve_info(self.field_def, [self.node], self.parent, path)
            info = strawberry.Info(_raw_info=raw, _field=self.definition)
            kwargs[getattr(info_name, "name", info_name)] = info
        return kwargs

    async def call(self, kwargs: dict[str, Any], sources: list[Any]) -> list[Any]:
        if self.batch_resolver is not None:
            values = await self.batch_resolver(sources, **kwargs)
            if len(values) != len(sources):
                raise Fallback
            return list(values)
        resolver = self.definition.base_resolver
        with_self = resolver.self_parameter is not None
        calls = [resolver(s, **kwargs) if with_self else resolver(**kwargs) for s in sources]
        if len(calls) == 1:  # no task for a lone call
            return [await calls[0]]
        return list(await asyncio.gather(*calls))


class Deferred:
    """A batched field's place in an answer being built: ``out[batch.key]`` once known."""

    __slots__ = ("batch", "source", "out")

    def __init__(self, batch: Batch, source: Any) -> None:
        self.batch = batch
        self.source = source
        self.out: dict[str, Any] = {}


class Collector(threading.local):
    """The batched fields met by the completion running now. A completion never awaits,
    so one list per thread serves every execution on its event loop in turn: each entry
    point empties it before it completes and takes what was collected right after."""

    def __init__(self) -> None:
        self.items: list[Deferred] = []

    def start(self) -> None:
        self.items = []

    def take(self) -> list[Deferred]:
        items, self.items = self.items, []
        return items


COLLECTED = Collector()


def defer(batch: Batch, source: Any) -> Deferred:
    deferred = Deferred(batch, source)
    COLLECTED.items.append(deferred)
    return deferred


def batched_step(
    parent: GraphQLObjectType,
    key: str,
    details: Sequence[Any],
    field_def: Any,
    definition: Any,
    *,
    nested: Callable[[Any, Any], Callable[[Any], Any] | None],
) -> Step | None:
    """The step of a resolver field called for many objects at once, or None: an
    async resolver of the object itself and its info (or a batch form), whose
    arguments are plain scalars, and whose result completes directly (``nested``: the
    executor's completer of an object or list field)."""
    resolver = definition.base_resolver
    node = details[0].node
    if getattr(details[0], "fragment_variable_values", None) is not None or (
        (definition.metadata or {}).get(BATCH_RESOLVER) is None
        and (
            not resolver.is_async
            or resolver.root_parameter is not None
            or resolver.parent_parameter is not None
        )
    ):
        return None
    for argument in field_def.args.values():
        python = (argument.extensions or {}).get(STRAWBERRY_DEFINITION)
        if get_named_type(argument.type).name not in SIMPLE_ARGUMENTS or python is None:
            return None
    field_type = field_def.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    if not nullable:
        field_type = field_type.of_type
    complete: Callable[[Any], Any] | None
    if node.selection_set:
        complete = nested(field_type, details)
    elif isinstance(field_type, GraphQLScalarType):
        complete = field_type.serialize
    else:
        complete = None
    if complete is None:
        return None
    batch = Batch(key, parent, field_def, definition, node, complete, nullable)
    return (key, partial(defer, batch), _same, False, Deferred)


async def settle(deferred: list[Deferred], bind: Callable[[Batch], dict[str, Any]]) -> bool:
    """Run the batched fields of a completion, and those their results select in turn
    (one batch per field and level); False when anything needs the normal path."""
    try:
        while deferred:
            groups: dict[Batch, list[Deferred]] = {}
            for item in deferred:
                groups.setdefault(item.batch, []).append(item)
            calls = [
                batch.call(bind(batch), [d.source for d in items])
                for batch, items in groups.items()
            ]
            results = await together(calls)
            COLLECTED.start()  # from here to the end of the loop body nothing awaits
            for (batch, items), values in zip(groups.items(), results, strict=True):
                for item, value in zip(items, values, strict=True):
                    if value is None:
                        if not batch.nullable:
                            return False
                        item.out[batch.key] = None
                        continue
                    completed = batch.complete(value)
                    if completed is None:
                        return False
                    item.out[batch.key] = completed
            deferred = COLLECTED.take()
    except Exception:  # noqa: BLE001 - the normal path reports it properly
        return False
    finally:
        COLLECTED.start()
    return True


def _same(value: Any) -> Any:
    return value
