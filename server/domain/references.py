"""Which referenced storage the server reads on a user's behalf (docs/semantics.md, "References").

The server's S3 credentials reach more than any one user may: its own blob store (every
project's blobs, private ones included) and whatever else the operator's account can
read. So the server reads (HEAD, list) and signs referenced objects only inside the
buckets an operator allowed (``LINEAGE_REFERENCE_BUCKETS``). Any other reference is
recorded as the client measured it with its own credentials (etag, versionId, size), and
its ``downloadUrl`` is null. The service's own blob-store bucket and prefix can never be
referenced, allowed or not.

Pure rules, no I/O: the S3 side (server/storage/references.py) asks ``may_read`` before
every request it makes, so no code path can read or sign outside the allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from server.domain.manifests import Entry, EntryInput, check_path
from server.errors import BadUserInput

# Lenient on purpose: legacy buckets may hold upper case and underscores.
BUCKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")
MAX_KEY_BYTES = 1024
# What S3 and its look-alikes hand out: printable ASCII without spaces or quotes.
MEASURED_TEXT_RE = re.compile(r"[!#-~]{1,1024}")
MAX_ETAG_CHARS = 256


class ReferenceError(Exception):  # noqa: A001 -- the name the app's API uses
    """A reference that cannot be recorded; the message names the URI."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def is_prefix(self) -> bool:
        """``s3://bucket/`` and ``s3://bucket/dir/`` name every object below them."""
        return self.key == "" or self.key.endswith("/")


def parse_s3_uri(uri: str) -> S3Location:
    # Not urlsplit: "?" and "#" are ordinary characters in S3 keys.
    if not uri.startswith("s3://"):
        raise ReferenceError(f"reference {uri[:200]} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not BUCKET_RE.fullmatch(bucket):
        raise ReferenceError(f"reference {uri[:200]} does not name a valid bucket")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES or "\x00" in key:
        raise ReferenceError(f"reference {uri[:200]} does not name a valid key")
    # A "." or ".." segment is a legal S3 key, but HTTP clients and proxies may resolve
    # it in a path-style URL ("/allowed/../other-bucket/..."): the request would reach
    # another bucket than the one checked here.
    if any(segment in (".", "..") for segment in key.split("/")):
        raise ReferenceError(f"reference {uri[:200]} has a '.' or '..' segment in its key")
    return S3Location(bucket, key)


@dataclass(frozen=True)
class BucketScope:
    """A bucket, or the part of it below ``prefix/``."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str) -> BucketScope:
        bucket, _, prefix = text.strip().partition("/")
        prefix = prefix.strip("/")
        if not BUCKET_RE.fullmatch(bucket) or "\x00" in prefix:
            raise ValueError(f"{text!r} is not a bucket name or bucket/prefix")
        return cls(bucket, prefix)

    def covers(self, location: S3Location) -> bool:
        """Everything ``location`` names lies inside this scope."""
        if location.bucket != self.bucket:
            return False
        return not self.prefix or location.key.startswith(self.prefix + "/")

    def overlaps(self, location: S3Location) -> bool:
        """``location`` may name something inside this scope (bucket names compared
        without case: refusing too much is the safe side here)."""
        if location.bucket.lower() != self.bucket.lower():
            return False
        if not self.prefix:
            return True
        inside = self.prefix + "/"
        if location.key.startswith(inside):
            return True
        return location.is_prefix and inside.startswith(location.key)


def parse_bucket_scopes(text: str) -> tuple[BucketScope, ...]:
    """``LINEAGE_REFERENCE_BUCKETS``: comma-separated ``bucket`` or ``bucket/prefix``."""
    return tuple(BucketScope.parse(part) for part in text.split(",") if part.strip())


def store_scope(storage_url: str) -> BucketScope | None:
    """The part of S3 the blob store keeps its own objects in (None: a folder store)."""
    parts = urlsplit(storage_url)
    if parts.scheme != "s3" or not parts.netloc:
        return None
    return BucketScope(parts.netloc, unquote(parts.path).strip("/"))


@dataclass(frozen=True)
class ReferencePolicy:
    allowed: tuple[BucketScope, ...] = ()
    own_store: BucketScope | None = None

    def may_read(self, location: S3Location) -> bool:
        """May the server read and sign ``location`` with its own credentials?"""
        if self.own_store is not None and self.own_store.overlaps(location):
            return False
        return any(scope.covers(location) for scope in self.allowed)

    def check_referable(self, uri: str) -> S3Location:
        """The location ``uri`` names, or BAD_USER_INPUT for one no entry may point at."""
        try:
            location = parse_s3_uri(uri)
        except ReferenceError as exc:
            raise BadUserInput(str(exc)) from None
        if self.own_store is not None and self.own_store.overlaps(location):
            raise BadUserInput(
                f"reference {uri[:200]} points into this service's own blob store, which "
                "cannot be referenced: log the files as stored entries instead"
            )
        return location


def check_measured(entry: EntryInput) -> None:
    """What a client measured itself (etag, versionId) is only for reference entries,
    and must look like what S3 hands out."""
    if entry.ref is None:
        if entry.etag is not None or entry.version_id is not None:
            raise BadUserInput(
                f"entry {entry.path[:100]!r}: etag and versionId are for reference entries "
                "(with ref); a stored file has a digest and size"
            )
        return
    if entry.etag is not None and (
        len(entry.etag) > MAX_ETAG_CHARS or not MEASURED_TEXT_RE.fullmatch(entry.etag.strip('"'))
    ):
        raise BadUserInput(
            f"entry {entry.path[:100]!r}: etag must be the object's ETag as S3 gives it "
            f"(at most {MAX_ETAG_CHARS} printable characters)"
        )
    if entry.version_id is not None and not MEASURED_TEXT_RE.fullmatch(entry.version_id):
        raise BadUserInput(
            f"entry {entry.path[:100]!r}: versionId must be the object's version id as S3 "
            "gives it (1-1024 printable characters)"
        )
    if entry.size is not None and entry.size < 0:
        raise BadUserInput(f"entry {entry.path[:100]!r}: size must not be negative")


def recorded_as_given(entry: EntryInput, uri: str) -> Entry:
    """A reference the server does not read: what the client measured, as given (the
    entry digest is the ETag when there is one, else the URI)."""
    extra: dict[str, str] = {}
    etag = entry.etag.strip('"') if entry.etag is not None else None
    if etag is not None:
        extra["etag"] = etag
    if entry.version_id is not None:
        extra["versionID"] = entry.version_id
    return Entry(check_path(entry.path), etag or uri, entry.size, uri, extra)


def check_matches_measured(entry: EntryInput, uri: str, etag: str, size: int | None) -> None:
    """The server read the object: what the client measured (if anything) must agree."""
    given = entry.etag.strip('"') if entry.etag is not None else None
    if given is not None and given != etag:
        raise BadUserInput(
            f"reference {uri[:200]} has ETag {etag}, not {given}: measure it again "
            "(or pass its versionId to record that version)"
        )
    if entry.size is not None and size is not None and entry.size != size:
        raise BadUserInput(
            f"reference {uri[:200]} is {size} bytes, not {entry.size}: measure it again"
        )
