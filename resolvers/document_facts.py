"""What is decided about a (cached) document's AST, walked once per document.

Two questions are asked of a document's nodes, and both need the whole subtree:

- ``has_directives``: whether anything in the document carries a directive (what @skip
  and @include select can change with the variables, so plans made for one execution of
  the document may not serve another: ``shareable``, ``shared_plans``);
- ``uses_variables``: whether some selections (through the fragments they spread) hold a
  variable (artifact(path) reads its selection's arguments ahead only when they do not
  change with the variables: resolvers/artifacts/queries.py).

One walker (``_finds``) answers both, and the answers are kept with the cached document
(``PreparedDocument.plans`` and ``.selections``, which hold no data), so a request of a
cached document walks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    DirectiveNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    VariableNode,
)


def _finds(kind: type[Node], roots: Iterable[Node], fragments: dict[str, Any] | None) -> bool:
    """Whether a node of ``kind`` is among ``roots`` or below them; with ``fragments``
    (name -> definition) the walk goes through the fragments spread, each once."""
    pending: list[Any] = list(roots)
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, kind):
            return True
        if fragments is not None and isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name not in seen:
                seen.add(name)
                fragment = fragments.get(name)
                if fragment is not None:
                    pending.append(fragment.selection_set)
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                pending.append(value)
            elif isinstance(value, (list, tuple)):
                pending.extend(v for v in value if isinstance(v, Node))
    return False


def has_directives(document: Any) -> bool:
    return _finds(DirectiveNode, [document], None)


def has_variables(nodes: Iterable[Node]) -> bool:
    """Whether these nodes (arguments, say) hold a variable."""
    return _finds(VariableNode, nodes, None)


def shareable(prepared: Any) -> bool:
    """Whether plans made for one execution of this prepared document serve all: it has
    no directives and no fragment with variables of its own (kept in
    ``prepared.plans["shareable"]``)."""
    plans = prepared.plans
    found = plans.get("shareable")
    if found is None:
        node = getattr(prepared, "document", None)
        found = plans["shareable"] = (
            node is not None
            and not has_directives(node)
            and not any(
                getattr(d, "variable_definitions", None)
                for d in node.definitions
                if isinstance(d, FragmentDefinitionNode)
            )
        )
    return bool(found)


def shared_plans(context: Any, kind: type) -> dict[Any, Any] | None:
    """The plans earlier executions of this request's (cached) document made, for this
    kind of execution context; None when they may not be shared: no prepared document,
    or one with directives."""
    document = getattr(context, "document", None)
    plans = getattr(document, "plans", None)
    if not isinstance(plans, dict) or not shareable(document):
        return None
    shared: dict[Any, Any] = plans.setdefault(kind, {})
    return shared


def uses_variables(raw: Any, selections: list[Any], memo: dict[Any, Any] | None = None) -> bool:
    """Whether these selections of the document ``raw`` (a resolve info) executes, through
    the fragments they spread, hold a variable; kept in ``memo`` (the cached document's
    ``selections``) by the selections' nodes."""
    key = ("uses variables", tuple(map(id, selections)))
    found = None if memo is None else memo.get(key)
    if found is None:
        found = _finds(VariableNode, selections, raw.fragments)
        if memo is not None:
            memo[key] = found
    return bool(found)
