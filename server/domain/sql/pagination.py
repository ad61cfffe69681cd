"""Fragments of every paged list: the keyset condition and the page-per-parent wrapper."""

from __future__ import annotations

from collections.abc import Sequence

from server.db.statements import Statement


def keyset_after(columns: Sequence[tuple[str, str]]) -> str:
    """The condition "the row comes after the cursor" for (expression, "ASC" | "DESC")
    columns; the cursor's values are the parameters ``:after_0``, ``:after_1``, ... in
    column order (``server.domain.pagination.cursor_params`` binds them)."""
    params = [f":after_{i}" for i in range(len(columns))]
    directions = {direction for _, direction in columns}
    if len(directions) == 1:
        # a row comparison lets Postgres use a matching index
        op = ">" if directions == {"ASC"} else "<"
        lhs = ", ".join(expr for expr, _ in columns)
        return f"(({lhs}) {op} ({', '.join(params)}))"
    ors = []
    for i, (expr, direction) in enumerate(columns):
        equal = [f"{columns[j][0]} = {params[j]}" for j in range(i)]
        op = ">" if direction == "ASC" else "<"
        ors.append("(" + " AND ".join([*equal, f"{expr} {op} {params[i]}"]) + ")")
    return "(" + " OR ".join(ors) + ")"


def by_parent(select: str, order: str, after: str | None = None) -> Statement:
    """A page of rows for each of many parents, in one statement.

    ``select`` reads one parent's rows, naming the parent ``k.parent``; ``order`` and
    ``after`` (a keyset condition, or None) use its output columns as ``s.<column>``.
    A LATERAL join runs it once per parent of ``:parents``, each stopping at
    ``:page_size`` rows (an index walk where the order has one). Rows carry
    ``page_parent`` and ``page_pos`` besides the select's own columns."""
    where = f"WHERE {after}" if after else ""
    return Statement(
        f"""SELECT x.*, k.parent AS page_parent FROM unnest(:parents::bigint[]) AS k(parent)
            CROSS JOIN LATERAL (
                SELECT s.*, row_number() OVER (ORDER BY {order}) AS page_pos
                  FROM ({select}) s {where}
                 ORDER BY {order} LIMIT :page_size) x
            ORDER BY k.parent, x.page_pos"""
    )
