"""Downloading a whole version: parallel, resumable, verified, through a shared cache.

For each stored file: kept if the file already there has the right sha256 (so a second
call resumes an interrupted download); else linked from the local cache when the cache
holds that content (checked, since a hard-linked copy may have been edited); else
fetched into the cache, hashed on the way, and only after the sha256 matched renamed
into the cache and linked (or copied, across file systems) into place. A file appears at
its path complete or not at all.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from lineage import queries
from lineage.errors import NotFound, TransferError
from lineage.hashing import file_matches
from lineage.progress import Progress
from lineage.transfer import UrlExpired, fetch, run_parallel, temp_path_beside

if TYPE_CHECKING:
    from lineage.api import Api
    from lineage.artifacts import Artifact, ManifestEntry

log = logging.getLogger(__name__)

ENTRIES_PAGE = 1000
PLAIN_MD5 = re.compile(r"[0-9a-f]{32}")  # a single-part upload's ETag is its MD5

ENTRY_URL = """query($id: ID!, $path: String!) { node(id: $id) { ... on Artifact {
  manifest { entries(first: 1, prefix: $path) { edges { node { path downloadUrl } } } } } } }"""


def cache_dir() -> Path:
    """LINEAGE_CACHE_DIR, else the user's cache folder; blobs live under ``blobs/``."""
    return Path(os.environ.get("LINEAGE_CACHE_DIR") or platformdirs.user_cache_dir("lineage"))


class BlobCache:
    """Content-addressed: ``blobs/sha256/ab/<digest>``; files appear only once verified."""

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs" / "sha256"
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def lock(self, digest: str) -> threading.Lock:
        """One download per content at a time: equal files in one version share it."""
        with self._locks_lock:
            return self._locks.setdefault(digest, threading.Lock())


def download_artifact(api: Api, artifact: Artifact, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    job = _Download(api, artifact, root, BlobCache(cache_dir()))
    with Progress(
        f"downloading {artifact.name}:{artifact.version}", artifact.file_count, artifact.size
    ) as progress:
        job.progress = progress
        run_parallel(job.entries(), job.one, lambda e: f"downloading {e.path}")
    if job.skipped:
        shown = ", ".join(job.skipped[:5]) + (" ..." if len(job.skipped) > 5 else "")
        log.warning(
            "skipped %d reference file(s) of %s that the service gives no URL for and "
            "this machine cannot read from S3 (no botocore or AWS credentials): %s",
            len(job.skipped), artifact.path, shown,
        )  # fmt: skip


class _Download:
    def __init__(self, api: Api, artifact: Artifact, root: Path, cache: BlobCache) -> None:
        self.api = api
        self.artifact = artifact
        self.root = root
        self.cache = cache
        self.http = api.transport.http
        self.progress: Progress | None = None
        self.skipped: list[str] = []

    def entries(self) -> Iterator[ManifestEntry]:
        """Pages of entries with fresh signed URLs, fetched as the workers need them."""
        from lineage.artifacts import ManifestEntry

        after: str | None = None
        while True:
            variables = {"id": self.artifact.id, "first": ENTRIES_PAGE, "after": after}
            node = self.api.graphql(queries.ENTRIES_WITH_URLS, variables)["node"]
            if node is None:
                raise NotFound(f"artifact {self.artifact.path} is no longer readable")
            page = node["manifest"]["entries"]
            for edge in page["edges"]:
                yield ManifestEntry.from_data(edge["node"])
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def advance(self, nbytes: int) -> None:
        if self.progress is not None:
            self.progress.advance(nbytes)

    def target(self, entry: ManifestEntry) -> Path:
        parts = entry.path.split("/")
        if any(p in ("", ".", "..") for p in parts):  # the service refuses these; be sure
            raise TransferError(f"unsafe path {entry.path!r} in the manifest")
        return self.root.joinpath(*parts)

    def fresh_url(self, entry: ManifestEntry) -> str | None:
        node = self.api.graphql(ENTRY_URL, {"id": self.artifact.id, "path": entry.path})["node"]
        edges = (node or {}).get("manifest", {}).get("entries", {}).get("edges", [])
        found = [e["node"] for e in edges if e["node"]["path"] == entry.path]
        return found[0]["downloadUrl"] if found else None

    def with_fresh_url(self, entry: ManifestEntry, attempt: Callable[[str], Any]) -> Any:
        """``attempt(url)``; once more with a new URL when the first was refused (expired)."""
        assert entry.download_url is not None
        try:
            return attempt(entry.download_url)
        except UrlExpired:
            url = self.fresh_url(entry)
            if url is None:
                raise TransferError("the service no longer gives a URL for it") from None
            try:
                return attempt(url)
            except UrlExpired:
                raise TransferError("download URL refused (HTTP 403) twice") from None

    def one(self, entry: ManifestEntry) -> None:
        if entry.ref is not None:
            self.reference(entry)
        else:
            self.stored(entry)

    def stored(self, entry: ManifestEntry) -> None:
        target, digest, size = self.target(entry), entry.digest or "", entry.size
        if file_matches(target, digest, size):
            self.advance(size or 0)
            return
        blob = self.cache.path(digest)
        with self.cache.lock(digest):
            if not file_matches(blob, digest, size):
                blob.unlink(missing_ok=True)  # an edited or broken copy: fetch it again
                self.fetch_blob(entry, blob)
            else:
                self.advance(size or 0)
        place(blob, target)

    def fetch_blob(self, entry: ManifestEntry, blob: Path) -> None:
        def attempt(url: str) -> None:
            with temp_path_beside(blob) as temp:
                got = fetch(self.http, url, temp, self.advance)
                if got["sha256"] != entry.digest:
                    raise TransferError(
                        f"the downloaded bytes do not match sha256 {entry.digest}; try again"
                    )
                temp.chmod(0o444)  # cached content is shared: keep it from being edited
                os.replace(temp, blob)

        if entry.download_url is None:
            raise TransferError("the service gives no download URL (deleted version?)")
        self.with_fresh_url(entry, attempt)

    def reference(self, entry: ManifestEntry) -> None:
        """Checked by MD5 when the ETag is a plain MD5, else by size (an ETag of a
        multipart or encrypted upload is no content hash the client can recompute)."""
        target = self.target(entry)
        etag = str(entry.extra.get("etag") or "")
        md5 = etag if PLAIN_MD5.fullmatch(etag) else None
        if _reference_matches(target, md5, entry.size):
            self.advance(entry.size or 0)
            return
        with temp_path_beside(target) as temp:
            if entry.download_url is not None:
                got = self.with_fresh_url(
                    entry, lambda url: fetch(self.http, url, temp, self.advance, ("md5",))
                )
                received = got["md5"]
            else:
                from lineage.references import read_object

                hasher = _Md5Counter(self.advance)
                if not read_object(
                    entry.ref or "", entry.extra.get("versionID"), temp, hasher.update
                ):
                    self.skipped.append(entry.path)
                    return
                received = hasher.hexdigest()
            if md5 is not None and received != md5:
                raise TransferError(f"the object {entry.ref} no longer matches its recorded ETag")
            if entry.size is not None and temp.stat().st_size != entry.size:
                raise TransferError(f"the object {entry.ref} no longer has its recorded size")
            os.replace(temp, target)


class _Md5Counter:
    def __init__(self, advance: Callable[[int], None]) -> None:
        import hashlib

        self._md5 = hashlib.md5(usedforsecurity=False)
        self._advance = advance

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._advance(len(chunk))

    def hexdigest(self) -> str:
        return self._md5.hexdigest()


def _reference_matches(path: Path, md5: str | None, size: int | None) -> bool:
    import hashlib

    try:
        if not path.is_file() or (size is not None and path.stat().st_size != size):
            return False
        if md5 is None:
            return size is not None
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest() == md5
    except OSError:
        return False


def place(blob: Path, target: Path) -> None:
    """Put the cached content at ``target`` in one step: a hard link when the cache is on
    the same file system, else a copy; either is made beside the target and renamed."""
    with temp_path_beside(target) as temp:
        try:
            os.link(blob, temp)
        except OSError:
            shutil.copyfile(blob, temp)
            temp.chmod(0o644)
        os.replace(temp, target)
