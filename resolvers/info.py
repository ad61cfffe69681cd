"""The typed ``info`` every resolver takes, and the one-transaction-per-mutation helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry

from server.context import Context
from server.db.database import Connection

Info = strawberry.Info[Context, None]


@asynccontextmanager
async def mutation(info: Info) -> AsyncIterator[Connection]:
    """Run a mutation's writes in one transaction, then drop cached loads it made stale."""
    async with info.context.db.transaction() as conn:
        yield conn
    info.context.loaders.clear()
