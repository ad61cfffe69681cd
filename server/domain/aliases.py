"""User aliases: at most one version per alias in a collection, matched regardless of case.

"latest" and "vN" are derived from version indices and never stored here.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.db.database import Connection, Database, Queryable
from server.domain.access import Viewer
from server.domain.artifacts import (
    ArtifactRow,
    get_artifact,
    lock_collection,
    share_lock_version,
    writable_artifact,
)
from server.domain.names import check_alias, check_storable_text
from server.domain.sql import aliases as sql
from server.errors import BadUserInput, Conflict


def unique_aliases(aliases: Sequence[str], *, ignore_latest: bool = False) -> list[str]:
    """Validated aliases, the first spelling of each kept (they match regardless of case).

    ``ignore_latest``: logArtifact applies "latest" anyway, so asking for it there is
    harmless; moving it by hand (updateArtifactAliases) is refused."""
    seen: dict[str, str] = {}
    for alias in aliases:
        if ignore_latest and alias.lower() == "latest":
            continue
        check_storable_text(alias, "alias")
        check_alias(alias)
        seen.setdefault(alias.lower(), alias)
    return list(seen.values())


async def move_aliases(
    conn: Connection, collection_id: int, version_id: int, aliases: Sequence[str]
) -> None:
    """Point each alias at ``version_id``, taking it from whichever version had it."""
    if not aliases:
        return
    await conn.execute(
        sql.MOVE_ALIASES, collection_id=collection_id, version_id=version_id, aliases=list(aliases)
    )


async def aliases_by_versions(db: Queryable, version_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each version's aliases: its user aliases in the order they were set, then "latest"
    when it is the newest committed version of its collection. No access check: callers
    hold rows the viewer may read."""
    rows = await db.fetch(sql.ALIASES_BY_VERSIONS, version_ids=list(version_ids))
    return {r["id"]: [*r["aliases"], "latest"] if r["is_latest"] else r["aliases"] for r in rows}


async def update_aliases(
    db: Database, viewer: Viewer | None, version_id: int, add: Sequence[str], remove: Sequence[str]
) -> ArtifactRow:
    to_add = unique_aliases(add)
    to_remove = unique_aliases(remove)
    both = {a.lower() for a in to_add} & {a.lower() for a in to_remove}
    if both:
        raise BadUserInput(f"alias {sorted(both)[0]!r} is both added and removed; pick one")
    async with db.transaction() as conn:
        artifact = await writable_artifact(conn, viewer, version_id)
        # The version's row first, then the collection's, in the order the log path takes
        # them; the share lock keeps the version from turning into a tombstone under the
        # new aliases.
        state = await share_lock_version(conn, version_id)
        if state != "COMMITTED":
            raise Conflict(f"only committed versions take aliases; {artifact.path} is {state}")
        await lock_collection(conn, artifact.collection_id)
        if to_remove:
            await conn.execute(sql.REMOVE_ALIASES, version_id=version_id, aliases=to_remove)
        await move_aliases(conn, artifact.collection_id, version_id, to_add)
        return await get_artifact(conn, version_id)
