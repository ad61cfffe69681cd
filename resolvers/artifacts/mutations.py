from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.arguments import InputContext

from resolvers.artifacts.types import Artifact
from resolvers.info import Info
from resolvers.scalars import Int64
from server.domain import aliases, commits, retention, versions
from server.domain.ids import decode_id_of
from server.domain.manifests import EntryInput
from server.errors import NotFound


@strawberry.input
class ManifestEntryInput:
    path: str
    digest: str | None = strawberry.field(
        default=None, description="sha256 hex of the content, for stored files."
    )
    size: Int64 | None = None
    ref: str | None = strawberry.field(
        default=None,
        description="External URI instead of stored content (s3://bucket/key, or s3://bucket/prefix/ for every object under it).",
    )
    checksum: bool = strawberry.field(
        default=True,
        description="For references in a bucket the server may read (LINEAGE_REFERENCE_BUCKETS): read the object's version id, ETag and size (true) or record the URI only (false).",
    )
    etag: str | None = strawberry.field(
        default=None,
        description="For references: the object's ETag as the client measured it. Recorded as given (and used as the entry digest) where the server may not read the bucket; checked against the object where it may.",
    )
    version_id: str | None = strawberry.field(
        default=None,
        description="For references: the object version the client measured (S3 versionId), recorded as extra.versionID.",
    )


def _entry_from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """Build the domain's EntryInput straight from graphql-core's coerced value.

    Strawberry's generic conversion re-resolves every field's type for every entry, which
    made a 100,000-entry logArtifact spend ~10 s here alone. graphql-core has already
    validated and coerced each field (Int64 included), so only the object is left to make,
    and it is made once: the EntryInput that log_artifact takes, not a ManifestEntryInput
    to be copied into one (``LogArtifactInput.entries`` holds EntryInputs at run time).
    """
    return EntryInput(
        value["path"], value.get("digest"), value.get("size"), value.get("ref"),
        value.get("checksum", True), value.get("etag"), value.get("versionId"),
    )  # fmt: skip


ManifestEntryInput.__strawberry_definition__.from_input = _entry_from_input  # type: ignore


@strawberry.input
class LogArtifactInput:
    run: str = strawberry.field(
        description='Path "entity/project/runId" of the logging run; the artifact goes in the run\'s project.'
    )
    name: str
    type: str
    description: str | None = None
    metadata: JSON | None = None
    aliases: list[str] | None = strawberry.field(
        default=None,
        description='User aliases to move onto the new version; "latest" is always applied.',
    )
    ttl_duration_seconds: int | None = None
    entries: list[ManifestEntryInput]


def _log_input_from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """Strawberry's conversion of LogArtifactInput, but for ``entries``: up to 100,000
    of them, each made by _entry_from_input without a trip through convert_argument per
    item (its type checks and path bookkeeping cost ~0.7 s per 100,000)."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    kwargs: dict[str, Any] = {
        f.python_name: None
        for f in definition.fields
        if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    for f in definition.fields:
        name = context.config.name_converter.from_field(f)
        if name not in value:
            continue
        if f.python_name == "entries":
            kwargs["entries"] = [
                _entry_from_input(ManifestEntryInput, e, context) for e in value[name]
            ]
        else:
            field_type = f.resolve_type(type_definition=definition)
            kwargs[f.python_name] = context.convert(value[name], field_type, name)
    return cls(**kwargs)


LogArtifactInput.__strawberry_definition__.from_input = _log_input_from_input  # type: ignore


@strawberry.type
class UploadTarget:
    path: str
    url: str = strawberry.field(description="PUT the file's bytes here, with these headers.")
    headers: JSON


@strawberry.type
class LogArtifactPayload:
    artifact: Artifact
    uploads: list[UploadTarget] = strawberry.field(
        description="Stored files whose content the service does not hold yet; empty when the version committed at once."
    )
    deduplicated: bool = strawberry.field(
        description="True when the collection already had a committed version with this digest: that version is returned and no new one is made."
    )


@strawberry.input
class UseArtifactInput:
    run: str = strawberry.field(description='Path "entity/project/runId" of the using run.')
    artifact: str = strawberry.field(
        description='Artifact path; may name another project the viewer can read. "name:alias" (no project) means the using run\'s project.'
    )


@strawberry.input
class UpdateArtifactAliasesInput:
    id: strawberry.ID
    add: list[str] | None = None
    remove: list[str] | None = None


def artifact_pk(global_id: str) -> int:
    pk = decode_id_of(global_id, "Artifact")
    if pk is None:
        raise NotFound(f"no artifact with id {global_id[:64]!r}")
    return pk


@strawberry.type
class ArtifactMutations:
    @strawberry.mutation(
        description="Log a new version from a run. When every stored file's content is already held, it commits at once; otherwise it stays PENDING until commitArtifact, after the client PUTs each upload."
    )
    async def log_artifact(self, info: Info, input: LogArtifactInput) -> LogArtifactPayload:
        ctx = info.context
        request = versions.LogRequest(
            run=input.run,
            name=input.name,
            type=input.type,
            description=input.description,
            metadata=input.metadata,
            aliases=input.aliases or (),
            ttl_seconds=input.ttl_duration_seconds,
            entries=cast("list[EntryInput]", input.entries),  # see _entry_from_input
        )
        result = await versions.log_artifact(ctx.db, ctx.store, ctx.references, ctx.viewer, request)
        return LogArtifactPayload(
            artifact=Artifact.of(result.artifact),
            uploads=[
                UploadTarget(path=u.path, url=u.url, headers=JSON(u.headers))
                for u in result.uploads
            ],
            deduplicated=result.deduplicated,
        )

    @strawberry.mutation(
        description='Check that every upload arrived with its declared digest and size, then assign the next version index and move "latest".'
    )
    async def commit_artifact(self, info: Info, id: strawberry.ID) -> Artifact:
        ctx = info.context
        row = await commits.commit_artifact(ctx.db, ctx.store, ctx.viewer, artifact_pk(id))
        return Artifact.of(row)

    @strawberry.mutation(
        description="Record that a run used the version the path resolves to now (aliases are resolved at use time)."
    )
    async def use_artifact(self, info: Info, input: UseArtifactInput) -> Artifact:
        row = await versions.use_artifact(
            info.context.db, info.context.viewer, input.run, input.artifact
        )
        return Artifact.of(row)

    @strawberry.mutation(
        description='Move aliases to this version (an alias is on at most one version per collection, matched regardless of case); "latest" and "vN" are managed by the service and refused here.'
    )
    async def update_artifact_aliases(
        self, info: Info, input: UpdateArtifactAliasesInput
    ) -> Artifact:
        row = await aliases.update_aliases(
            info.context.db,
            info.context.viewer,
            artifact_pk(input.id),
            input.add or (),
            input.remove or (),
        )
        return Artifact.of(row)

    @strawberry.mutation(description="Null removes the TTL.")
    async def set_artifact_ttl(
        self, info: Info, id: strawberry.ID, ttl_duration_seconds: int | None = None
    ) -> Artifact:
        row = await retention.set_ttl(
            info.context.db, info.context.viewer, artifact_pk(id), ttl_duration_seconds
        )
        return Artifact.of(row)

    @strawberry.mutation(
        description="Turn the version into a tombstone; refused with CONFLICT while it has user aliases, unless deleteAliases is true."
    )
    async def delete_artifact(
        self, info: Info, id: strawberry.ID, delete_aliases: bool = False
    ) -> Artifact:
        row = await retention.delete_artifact(
            info.context.db, info.context.viewer, artifact_pk(id), delete_aliases
        )
        return Artifact.of(row)
