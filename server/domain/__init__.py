"""The rules of the service: accounts, projects, runs, artifacts, lineage, access. Nothing
here knows GraphQL or HTTP.

Where a transaction starts: in the domain function a caller enters to change data.
Such a function takes the ``Database`` and runs all its statements in one
``db.transaction()`` it opens itself; the helpers it calls take that ``Connection``. So a
mutation resolver, the CLI or the web app's sign-in never opens one, and every change is
all or nothing. The domain owns the transaction because only it knows where one must
not be open: logging an artifact with references asks S3 about them before its
transaction starts, and signs upload URLs after it committed (versions.log_artifact).
Reads take any ``Queryable`` (the Database, or a Connection inside a transaction). The
worker (server/worker.py) is the other writer: it opens one transaction per batch.

SQL lives in ``server.domain.sql``, one module per domain module, as named statements;
rows are built from records by column name (server/db/rows.py).
"""
