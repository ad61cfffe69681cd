"""SQL statements with named parameters, compiled once into asyncpg's ``$n`` form.

Statements are written with ``:name`` parameters and made into a ``Statement`` where
they are defined (at import), so nothing is numbered by hand and nothing is counted at
call time. Each distinct name becomes one positional parameter (a name used twice is
one parameter); casts (``:ids::bigint[]``, ``'{}'::jsonb``), string literals, quoted
identifiers and comments are left as they are. A call passes exactly the names the
statement uses, by keyword (``db.fetch(RUN_BY_ID, id=7)``): a missing or unknown name
is a ``TypeError`` at the call, before anything reaches Postgres.

Values are always parameters. Where a statement truly varies (an ordering, a filter, a
keyset condition), its module composes the text from named fragments in a cached
function of the few choices there are, and compiles each variant once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# What the compiler has to step over (literals, identifiers, comments, casts) and the
# parameters it replaces. Alternatives are tried in order at each position, so "::"
# is taken as a cast before ":name" could match its second colon.
_TOKEN = re.compile(
    r"""
      '(?:[^']|'')*'          # a string literal ('' is a quote inside it)
    | "(?:[^"]|"")*"          # a quoted identifier
    | --[^\n]*                # a line comment
    | /\*.*?\*/               # a block comment
    | ::                      # a cast
    | :(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | \$                      # refused: positional parameters and dollar quoting
    """,
    re.VERBOSE | re.DOTALL,
)


def compile_named(source: str) -> tuple[str, tuple[str, ...]]:
    """(asyncpg text, parameter names in ``$n`` order) for a statement with ``:names``."""
    names: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name is not None:
            return f"${names.setdefault(name, len(names) + 1)}"
        if match[0] == "$":
            raise ValueError(
                f"use :name parameters, not '$' (positional or dollar-quoted): {source[:200]!r}"
            )
        return match[0]

    return _TOKEN.sub(replace, source), tuple(names)


class Statement:
    """One SQL statement, compiled; ``text`` is what asyncpg prepares."""

    __slots__ = ("_expected", "names", "source", "text")

    def __init__(self, source: str) -> None:
        self.source = source
        self.text, self.names = compile_named(source)
        self._expected = frozenset(self.names)

    def args(self, params: Mapping[str, object]) -> list[object]:
        """The positional arguments for ``params``, which must name exactly ``names``."""
        if params.keys() != self._expected:
            missing = sorted(self._expected - params.keys())
            unknown = sorted(params.keys() - self._expected)
            raise TypeError(
                f"statement takes parameters {sorted(self._expected)}; "
                f"missing {missing}, unknown {unknown}: {self.source[:120]!r}"
            )
        return [params[name] for name in self.names]

    def __repr__(self) -> str:
        return f"Statement({self.source[:60]!r}…)"
