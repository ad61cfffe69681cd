"""A list of rows completed by one compiled function (a lineage answer's 10,000 nodes).

The fast executor (resolvers/execution.py) completes a ``RowViews`` list from the rows
themselves when every selected field reads the row (``ROW_GETTER``); ``compiled`` turns
such a plan into one function with each field's ``ROW_ACCESS`` inlined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any

from resolvers.completion import Never, Plan, RowPlan, complete_flat


def compiled(plan: Plan, reads: Sequence[str | None], constants: dict[int, str]) -> RowPlan:
    """``complete_flat(plan, row)`` as one function with the row reads inlined (a lineage
    answer completes 10,000 nodes and as many edges with the same few steps): when every
    value has the type passed as is, or serializes to something, the dict straight away;
    anything else (a null, an error) goes through ``complete_flat``, which decides.
    ``reads[i]`` is step i's ``ROW_ACCESS`` (None: call its getter), ``constants`` the
    steps that are a type's name. The source holds only names made here and the
    ``ROW_ACCESS`` of the schema's own fields (checked when each field was made); keys,
    functions and values are variables of the closure."""
    names: dict[str, Any] = {"slow": partial(complete_flat, plan)}
    reading, checks, serialized = [], [], []
    for i, ((key, get, serialize, _, as_is), read) in enumerate(zip(plan, reads, strict=True)):
        names[f"k{i}"], names[f"g{i}"], names[f"s{i}"], names[f"a{i}"] = key, get, serialize, as_is
        if i in constants:
            names[f"c{i}"] = constants[i]
            reading.append(f"v{i} = c{i}")
            continue
        reading.append(f"v{i} = row{read}" if read is not None else f"v{i} = g{i}(row)")
        if as_is is Never:
            checks.append(f"v{i} is None")
            serialized.append(i)
        else:
            checks.append(f"type(v{i}) is not a{i}")
    body = ["try:", *(f"    {line}" for line in reading)]
    if checks:
        body += [f"    if {' or '.join(checks)}:", "        return slow(row)"]
    body += [f"    v{i} = s{i}(v{i})" for i in serialized]
    body += ["except Exception:", "    return slow(row)"]
    if serialized:
        body += [f"if {' or '.join(f'v{i} is None' for i in serialized)}:", "    return slow(row)"]
    body.append("return {" + ", ".join(f"k{i}: v{i}" for i in range(len(plan))) + "}")
    source = "def make({}):\n def complete(row):\n{}\n return complete".format(
        ", ".join(names), "\n".join("  " + line for line in body)
    )
    return _maker(source)(**names)


@lru_cache(maxsize=256)
def _maker(source: str) -> Callable[..., RowPlan]:
    """The function ``source`` defines (compiling costs ~0.1 ms; a document whose plans
    are not kept, one with directives, plans every execution afresh)."""
    scope: dict[str, Any] = {}
    exec(source, {}, scope)  # noqa: S102 - see _compiled
    return scope["make"]  # type: ignore[no-any-return]
