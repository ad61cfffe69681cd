"""A faster completion of objects whose selected fields are all plain attributes.

graphql-core completes every field of every object through the full machinery (resolve
info, the strawberry resolver wrapper, awaitable checks, leaf completion), and every item
of a list through complete_value -> complete_abstract_value -> complete_object_value:
about 10 us a field and several us an item, which was most of the time of a 10,000-node
lineage answer. When every field selected on an object is read straight off an attribute
(no resolver, no arguments, no directives) and is a leaf, or an object or list of objects
that are flat in turn, the result is the same as ``{key: serialize(getattr(obj, attr))}``,
so this builds it directly; for a list of such objects (a union's members told apart by
their Python class) it does the whole list in one loop, and a connection's
``edges { node { ... } }`` completes in one go. An object that also selects resolver
fields gets its plain fields done here and only the others from graphql-core. Anything
else (a resolver, a null where the type says non-null, a value that does not serialize,
an unexpected class) takes graphql-core's normal path, which also produces the proper
error; tests/resolvers/test_execution.py checks both paths agree.
A schema extension with a resolve hook turns all of this off: it must see every field.

Only the object types a schema opts in (``fast_execution_context(types)``) are completed
here; every other type takes graphql-core's path whatever it selects. What the executor
relies on in graphql-core and strawberry is checked on import (execution_guard.py).

Where the parts live: this module is the executor (where graphql-core hands it objects
and lists, and the batched resolver fields); completion.py the plans of objects and
lists and how they run; row_plans.py a list of rows compiled into one function;
batching.py and together.py the batched resolver fields; document_facts.py what is
decided once per cached document; root_plan.py a query of one root field without
graphql-core's execute; unions.py union members told apart by their Python class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, ClassVar

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLUnionType,
)
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.batching import (
    COLLECTED,
    Batch,
    Deferred,
    Fallback,
    batched_step,
    settle,
)
from resolvers.completion import (
    ListPlan,
    Plan,
    RowPlan,
    Split,
    Step,
    complete_flat,
    field_plan,
    in_order,
    list_completer,
)
from resolvers.document_facts import shared_plans
from resolvers.execution_guard import STRAWBERRY_DEFINITION, check_libraries
from resolvers.fields import ROW_ACCESS, RowViews
from resolvers.row_plans import compiled
from resolvers.unions import speed_up_unions

__all__ = ["FastExecutionContext", "fast_execution_context", "speed_up_unions"]

check_libraries()


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # the strawberry types (generic ones in all their specializations) completed here
    fast_types: ClassVar[frozenset[type]] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # an extension with a resolve hook (tracing, permissions) must see every field
        manager = self.middleware_manager
        self._fast = manager is None or not manager.middlewares
        self._splits: dict[tuple[int, int], Split] = {}
        self._list_plans: dict[tuple[int, int], ListPlan | None] = {}
        # keys are ids: keep their objects alive so no id is reused during execution
        self._keep_alive: list[Any] = []
        # plans of earlier executions of the same document, keyed by its AST nodes (which
        # the cached document keeps alive), or None
        self._shared = shared_plans(self.context_value, type(self))
        # batched fields' arguments and info in this execution
        self._bound: dict[Batch, dict[str, Any]] = {}
        # released (its cycles broken) once the request is answered: server/context.py
        executions = getattr(self.context_value, "executions", None)
        if isinstance(executions, list):
            executions.append(self)

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        """graphql-core's, kept with the (cached) document for its later executions when
        plans are shared: without directives or fragment variables what a selection
        collects depends on the document alone (graphql-core keeps it per execution)."""
        shared = self._shared
        if shared is None:
            return super().collect_subfields(return_type, field_details_list)
        key = ("fields", id(return_type), *(id(d.node) for d in field_details_list))
        found = shared.get(key)
        if found is None:
            found = shared[key] = super().collect_subfields(return_type, field_details_list)
            # known as shared (kept alive by the entry): _split keeps its split with it
            shared["grouped", id(found[0])] = found[0]
        return found

    def _split(self, parent: GraphQLObjectType, grouped: Any) -> Split:
        """(plan of the plain fields, the other fields or None, every key in order)."""
        # grouped field sets are memoised per (type, selection) by collect_subfields, so
        # their identity is stable for the whole execution
        cache_key = (id(parent), id(grouped))
        split = self._splits.get(cache_key)
        if split is None:
            shared = self._shared
            # a grouped field set shared by all executions (collect_subfields): its split
            # is kept with it, found by identity
            known = shared is not None and shared.get(("grouped", id(grouped))) is grouped
            if known:
                assert shared is not None
                kept: Split | None = shared.get(("split of", *cache_key))
                if kept is not None:
                    self._splits[cache_key] = kept
                    return kept
            shared_key = None
            found = None
            if shared is not None:
                nodes = tuple((k, *(id(d.node) for d in v)) for k, v in grouped.items())
                shared_key = ("split", id(parent), nodes)
                found = shared.get(shared_key)
            if found is None:
                found = self._make_split(parent, grouped)
                if shared is not None:
                    shared[shared_key] = found
            steps, rest_keys, keys = found
            if not steps:  # nothing plain: graphql-core completes the whole object
                split = ((), grouped, ())
            else:
                rest = {k: grouped[k] for k in rest_keys} if rest_keys else None
                split = (steps, rest, keys)
            self._splits[cache_key] = split
            self._keep_alive.append(grouped)
            if known:
                assert shared is not None
                shared[("split of", *cache_key)] = split
        return split

    def _make_split(
        self, parent: GraphQLObjectType, grouped: Any
    ) -> tuple[Plan, tuple[str, ...], tuple[str, ...]]:
        """(plan of the plain fields, the keys of the others, every key in order): what
        holds for any execution of the document."""
        steps, rest = [], []
        if self._opts_in(parent):
            batched = partial(batched_step, nested=self._nested)
            for key, details in grouped.items():
                step = field_plan(parent, key, details, self._nested, batched)
                if step is None:
                    rest.append(key)
                else:
                    steps.append(step)
        return tuple(steps), tuple(rest), tuple(grouped)

    def _bind(self, batch: Batch) -> dict[str, Any]:
        kwargs = self._bound.get(batch)
        if kwargs is None:
            kwargs = self._bound[batch] = batch.bind(self)
        return kwargs

    def _opts_in(self, object_type: GraphQLObjectType) -> bool:
        definition = (object_type.extensions or {}).get(STRAWBERRY_DEFINITION)
        generic = getattr(definition, "concrete_of", None)  # Edge for Edge[Run]
        return any(getattr(d, "origin", None) in self.fast_types for d in (definition, generic))

    def _plan(self, parent: GraphQLObjectType, grouped: Any) -> Plan | None:
        """The plan of an object whose selected fields are all plain, else None."""
        steps, rest, _ = self._split(parent, grouped)
        return steps if rest is None else None

    def _object_plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> Plan | None:
        grouped, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        return None if new_defer_usages else self._plan(object_type, grouped)

    def _nested(self, field_type: Any, details: Any) -> Callable[[Any], Any] | None:
        """The completer of a plain field holding a flat object or a list of them (an
        object is completed as an item of a list would be, with the same type checks)."""
        is_list = isinstance(field_type, GraphQLList)
        plan = self._list_plan(field_type.of_type if is_list else field_type, details)
        if plan is None:
            return None
        complete_items, complete_item = plan.many, plan.one

        def complete_list(value: Any) -> Any:
            if type(value) is not list and type(value) is not RowViews:
                raise Fallback
            completed = complete_items(value) if value else []
            if completed is None:
                raise Fallback
            return completed

        def complete_object(value: Any) -> Any:  # never None: the step handles that
            completed = complete_item(value)
            if completed is None:
                raise Fallback
            return completed

        return complete_list if is_list else complete_object

    def _list_plan(self, item_type: GraphQLOutputType, field_details_list: Any) -> ListPlan | None:
        cache_key = (id(item_type), id(field_details_list))
        if cache_key not in self._list_plans:
            if self._shared is None:
                plan = self._make_list_plan(item_type, field_details_list)
            else:
                nodes = tuple(id(d.node) for d in field_details_list)
                shared_key = ("list", id(item_type), nodes)
                if shared_key in self._shared:
                    plan = self._shared[shared_key]
                else:
                    plan = self._shared[shared_key] = self._make_list_plan(
                        item_type, field_details_list
                    )
            self._list_plans[cache_key] = plan
            self._keep_alive.append(field_details_list)
        return self._list_plans[cache_key]

    def _make_list_plan(self, item_type: Any, field_details_list: Any) -> ListPlan | None:
        if any(details.node.directives for details in field_details_list):
            return None  # @stream and friends take the normal path
        nullable_items = not isinstance(item_type, GraphQLNonNull)
        if not nullable_items:
            item_type = item_type.of_type
        if isinstance(item_type, GraphQLObjectType):
            members = [item_type]
        elif isinstance(item_type, GraphQLUnionType):
            members = list(item_type.types)
        else:
            return None
        by_class: dict[type, Plan] = {}
        rows: dict[type, RowPlan] = {}
        for member in members:
            definition = (member.extensions or {}).get(STRAWBERRY_DEFINITION)
            origin = getattr(definition, "origin", None)
            plan = self._object_plan(member, field_details_list)
            if origin is not None and plan is not None:
                by_class[origin] = plan  # an instance of origin passes its is_type_of
                row_plan = self._row_plan(member, field_details_list)
                if row_plan is not None:
                    rows[origin] = row_plan
        if len(members) == 1 and members[0].is_type_of is None:
            # graphql-core takes any value for such a type: so do we
            plan = self._object_plan(members[0], field_details_list)
            return None if plan is None else list_completer(plan, nullable_items, rows)
        return list_completer(by_class, nullable_items, rows) if by_class else None

    def _row_plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> RowPlan | None:
        """What completes a view of this type from its row, when every selected field
        reads the row (``ROW_GETTER``), else None."""
        if not self._opts_in(object_type):
            return None
        grouped, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return None
        steps: list[Step] = []
        reads: list[str | None] = []
        constants: dict[int, str] = {}
        for key, details in grouped.items():
            step = field_plan(object_type, key, details, self._nested, rows=True)
            if step is None:
                return None
            name = details[0].node.name.value
            if name == "__typename":
                constants[len(steps)] = object_type.name
            field_def = object_type.fields.get(name)
            definition = field_def and (field_def.extensions or {}).get(STRAWBERRY_DEFINITION)
            reads.append((getattr(definition, "metadata", None) or {}).get(ROW_ACCESS))
            steps.append(step)
        return compiled(tuple(steps), reads, constants)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        if self._fast and (type(items) is list or type(items) is RowViews) and items:
            complete = self._list_plan(item_type, field_details_list)
            if complete is not None:
                COLLECTED.start()
                completed = complete.many(items)
                deferred = COLLECTED.take()
                if completed is not None:
                    if not deferred:
                        return completed
                    return self._after_batches(
                        deferred,
                        completed,
                        partial(
                            super().complete_iterable_value,
                            item_type, field_details_list, info, path, items, position_context,
                        ),
                    )  # fmt: skip
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    async def _after_batches(
        self, deferred: list[Deferred], completed: Any, normal: Callable[[], Any]
    ) -> Any:
        """``completed`` once its batched fields are in, else the normal path's answer."""
        if await settle(deferred, self._bind):
            return completed
        answer = normal()
        return await answer if self.is_awaitable(answer) else answer

    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        new_defer_usages: Sequence[Any],
        delivery_group_map: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        steps, rest, keys = (
            self._split(parent_type, grouped_field_set)
            if self._fast and not new_defer_usages
            else ((), grouped_field_set, ())
        )
        COLLECTED.start()
        plain = complete_flat(steps, source_value) if steps else None
        deferred = COLLECTED.take()
        normal = partial(
            super().execute_collected_subfields,
            parent_type, source_value, path, grouped_field_set, new_defer_usages,
            delivery_group_map,
        )  # fmt: skip
        if plain is None:  # nothing plain, or something the normal path must report
            return normal()
        if deferred:
            # batched fields first: should they need the normal path, it runs the whole
            # object, and the other fields must not have run already
            run_others = partial(
                super().execute_collected_subfields, parent_type, source_value, path,
                rest or {}, new_defer_usages, delivery_group_map,
            )  # fmt: skip
            return self._with_batches(deferred, plain, rest, keys, normal, run_others)
        if rest is None:
            return plain
        # the plain fields are done; graphql-core runs the others (resolvers, arguments)
        others = super().execute_collected_subfields(
            parent_type, source_value, path, rest, new_defer_usages, delivery_group_map
        )
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return in_order(keys, plain, await others)

            return merged()
        return in_order(keys, plain, others)  # type: ignore[arg-type]

    async def _with_batches(
        self,
        deferred: list[Deferred],
        plain: dict[str, Any],
        rest: dict[str, Any] | None,
        keys: Sequence[str],
        normal: Callable[[], Any],
        others: Callable[[], Any],
    ) -> dict[str, Any]:
        if not await settle(deferred, self._bind):
            answer = normal()
            return await answer if self.is_awaitable(answer) else answer  # type: ignore[no-any-return]
        if rest is None:
            return plain
        found = others()
        if self.is_awaitable(found):
            found = await found
        return in_order(keys, plain, found)


def fast_execution_context(*types: type) -> type[FastExecutionContext]:
    """The execution context that completes objects of these strawberry types directly."""

    class Context(FastExecutionContext):
        fast_types = frozenset(types)

    return Context
