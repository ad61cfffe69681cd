"""ArtifactCollection, Artifact, Manifest and ManifestEntry."""

from __future__ import annotations

import posixpath
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from resolvers.connections import Connection, hop_connections, loaded_connection
from resolvers.enums import ArtifactState, LineageDirection
from resolvers.fields import BATCH_RESOLVER, row_field
from resolvers.info import Info
from resolvers.lineage.fields import hop_connection, lineage_graph
from resolvers.node import NODE_ID_DESCRIPTION, Node, node_loader
from resolvers.projects.types import Project
from resolvers.runs.types import LINEAGE_DESCRIPTION, LineageGraphType, Run
from resolvers.scalars import Int64
from server.domain import artifacts, manifests
from server.domain.artifacts import ArtifactRow, CollectionRow
from server.domain.ids import encode_id
from server.domain.manifests import Entry
from server.domain.pagination import page_args


@strawberry.type
class ManifestEntry:
    path: str
    digest: str
    size: Int64 | None
    ref: str | None
    extra: JSON
    entry: strawberry.Private[Entry]
    # Only a COMMITTED version's content is proven: a PENDING one lists what its logger
    # claimed, and signing those digests would serve blobs they never uploaded.
    downloadable: strawberry.Private[bool]

    @classmethod
    def of(cls, entry: Entry, downloadable: bool = True) -> ManifestEntry:
        return cls(path=entry.path, digest=entry.digest, size=Int64(entry.size) if entry.size is not None else None,
                   ref=entry.ref, extra=JSON(entry.extra), entry=entry, downloadable=downloadable)  # fmt: skip

    @strawberry.field(
        description="A short-lived URL that returns exactly this content (the recorded version for references); null for tombstones and versions not yet committed, and for references outside the buckets the server may read (the client reads ref and extra.versionID with its own credentials)."
    )
    async def download_url(self, info: Info) -> str | None:
        if not self.downloadable:
            return None
        if self.entry.ref is None:
            url: str = await info.context.store.download_url(
                self.entry.digest, filename=posixpath.basename(self.entry.path)
            )
            return url
        if info.context.references is None:
            return None
        # None outside the buckets the server may sign (LINEAGE_REFERENCE_BUCKETS)
        ref_url: str | None = await info.context.references.download_url(
            self.entry.ref, self.entry.extra.get("versionID")
        )
        return ref_url


@strawberry.type
class Manifest:
    version_id: strawberry.Private[int]
    committed: strawberry.Private[bool]

    @strawberry.field(
        description="Entries in path order; prefix keeps those whose path starts with it."
    )
    async def entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        prefix: str | None = None,
    ) -> Connection[ManifestEntry]:
        loaders = info.context.loaders
        key = manifests.entry_page_key(self.version_id, prefix, page_args(first, after))
        committed = self.committed
        return await loaded_connection(
            info, loaders.entry_pages, loaders.entry_count, key, (self.version_id, prefix),
            lambda entry: ManifestEntry.of(entry, committed),
        )  # fmt: skip


@strawberry.type
class ArtifactCollection(Node):
    name: str
    type: str
    description: str | None
    created_at: datetime
    row: strawberry.Private[CollectionRow]

    @classmethod
    def of(cls, row: CollectionRow) -> ArtifactCollection:
        return cls(id=strawberry.ID(encode_id("ArtifactCollection", row.id)), name=row.name, type=row.type,
                   description=row.description, created_at=row.created_at, row=row)  # fmt: skip

    @strawberry.field
    async def project(self, info: Info) -> Project:
        project = await info.context.loaders.project_by_id.load(self.row.project_id)
        assert project is not None
        return Project.of(project)

    @strawberry.field(description="Committed versions (and tombstones), newest first.")
    async def versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Artifact]:
        loaders = info.context.loaders
        key = artifacts.version_page_key(self.row.id, page_args(first, after))
        return await loaded_connection(
            info, loaders.version_pages, loaders.version_count, key, self.row.id, Artifact.of
        )

    @strawberry.field(description='The version an alias points at; "latest" and "vN" work too.')
    async def version(self, info: Info, alias: str) -> Artifact | None:
        row = await info.context.loaders.version_by_spec.load((self.row.id, alias))
        return Artifact.of(row) if row else None


async def _aliases(self: Artifact, info: Info) -> list[str]:
    # loaded apart from the row, batched: most queries never ask for them
    return await info.context.loaders.aliases_by_id.load(self.row.id) or []


async def _logged_by_batch(artifacts: list[Artifact], info: Info) -> list[Run | None]:
    rows = await info.context.loaders.run_by_id.load_many([a.row.logged_by for a in artifacts])
    return [Run.of(row) if row else None for row in rows]


async def _used_by_batch(
    artifacts: list[Artifact], info: Info, first: int | None = None, after: str | None = None
) -> list[Connection[Run]]:
    loaders = info.context.loaders
    return await hop_connections(
        info, loaders.used_by_page, loaders.used_by_count, Run.of,
        [a.row.id for a in artifacts], first, after,
    )  # fmt: skip


@strawberry.type
class Artifact(Node):
    row: strawberry.Private[ArtifactRow]
    id: strawberry.ID = row_field("global_id", NODE_ID_DESCRIPTION)
    name: str = row_field("name")
    path: str = row_field("path")
    type: str = row_field("type")
    version_index: int | None = row_field("version_index")
    version: str | None = row_field("version")
    digest: str = row_field("digest")
    aliases: list[str] = strawberry.field(resolver=_aliases)
    description: str | None = row_field("description")
    metadata: JSON = row_field("metadata")
    state: ArtifactState = row_field("state")
    size: Int64 = row_field("size")
    file_count: int = row_field("file_count")
    created_at: datetime = row_field("created_at")
    ttl_duration_seconds: int | None = row_field("ttl_seconds")
    expires_at: datetime | None = row_field("expires_at")

    @classmethod
    def of(cls, row: ArtifactRow) -> Artifact:
        return cls(row=row)

    @strawberry.field
    async def collection(self, info: Info) -> ArtifactCollection:
        row = await info.context.loaders.collection_by_id.load(self.row.collection_id)
        assert row is not None
        return ArtifactCollection.of(row)

    @strawberry.field
    def manifest(self) -> Manifest:
        return Manifest(version_id=self.row.id, committed=self.row.state == "COMMITTED")

    @strawberry.field(
        description="The run that logged this version; null when hidden from the viewer.",
        metadata={BATCH_RESOLVER: _logged_by_batch},
    )
    async def logged_by(self, info: Info) -> Run | None:
        row = await info.context.loaders.run_by_id.load(self.row.logged_by)
        return Run.of(row) if row else None

    @strawberry.field(
        description="Runs that used this version, in order of first use; runs hidden from the viewer are left out.",
        metadata={BATCH_RESOLVER: _used_by_batch},
    )
    async def used_by(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Run]:
        loaders = info.context.loaders
        return await hop_connection(
            info,
            loaders.used_by_page,
            loaders.used_by_count,
            Run.of,
            self.row.id,
            first,
            after,
        )

    @strawberry.field(description=LINEAGE_DESCRIPTION)
    async def lineage(
        self,
        info: Info,
        direction: LineageDirection = LineageDirection.BOTH,
        depth: int = 1,
        limit: int = 1000,
    ) -> LineageGraphType:
        return await lineage_graph(info, "Artifact", self.row.id, direction.value, depth, limit)  # type: ignore[no-any-return]


@node_loader("Artifact")
async def load_artifact(info: Info, pk: int) -> Artifact | None:
    row = await info.context.loaders.artifact_by_id.load(pk)
    return Artifact.of(row) if row else None


@node_loader("ArtifactCollection")
async def load_collection(info: Info, pk: int) -> ArtifactCollection | None:
    row = await info.context.loaders.collection_by_id.load(pk)
    return ArtifactCollection.of(row) if row else None
