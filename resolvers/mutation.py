"""What every field of the Mutation type gets: fresh loaders after it, and a re-run when
Postgres aborted its transaction to resolve a conflict.

Transactions start in the domain. A mutation's resolver calls one domain function with
``info.context.db``, and that function opens the mutation's one transaction itself
(server/domain/__init__.py tells why); resolvers never open one.

Loaders are cleared here, and only here: after every attempt of every mutation, whether
it succeeded or failed, all of the request's DataLoaders are dropped
(``Loaders.clear``), so the fields of its answer, and the mutations after it in the same
request, load what it wrote.

Each mutation is one transaction, so one that Postgres killed as a deadlock victim (or a
serialization failure) changed nothing, and running it again from the start is exactly
what the client would do -- only the client would first see an INTERNAL error for a
conflict that was never its fault. The lock order of the write paths avoids the
deadlocks we know of (see ``lock_collection`` in server/domain/artifacts.py); this covers
what is left, such as two transactions reviving the same unneeded blobs in another order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition

from resolvers.info import Info
from server.db.pool import RETRYABLE_ERRORS

log = logging.getLogger(__name__)

ATTEMPTS = 5
# jittered, growing pause between attempts, so the transactions that collided do not
# meet again in the same order
BACKOFF_SECONDS = 0.01


class MutationField(FieldExtension):
    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await next_(source, info, **kwargs)
            except RETRYABLE_ERRORS as exc:
                if attempt == ATTEMPTS:
                    raise
                log.info(
                    "request %s: %s %s, attempt %d of %d; running it again",
                    info.context.request_id, info.field_name, type(exc).__name__,
                    attempt, ATTEMPTS,
                )  # fmt: skip
            finally:
                # committed or rolled back: anything loaded before may describe rows
                # this attempt changed
                info.context.loaders.clear()
            await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))
        raise AssertionError("unreachable")


def extend_mutations(mutation_type: Any) -> None:
    """Give every field of the Mutation type its MutationField (before the schema is built)."""
    definition: StrawberryObjectDefinition = mutation_type.__strawberry_definition__
    for field in definition.fields:
        field.extensions.append(MutationField())
