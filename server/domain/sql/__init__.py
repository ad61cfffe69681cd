"""Every SQL statement of the domain, one module per domain module (``sql/runs.py`` holds
what ``server/domain/runs.py`` runs), as named ``Statement`` constants with ``:name``
parameters (server/db/statements.py). Statements that vary are composed from the named
fragments here, one cached function per family, each variant compiled once.

Shared pieces: the access rule as SQL (``server.domain.access.READABLE``, which names the
project ``p``), keyset conditions and the page-per-parent wrapper (``sql/pagination.py``),
and the column lists of runs and artifact versions, which lineage reuses.
"""
