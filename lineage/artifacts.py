"""``lineage.Artifact``: built locally (add files, folders, references), then logged; or
found through ``Api`` and read (fields, manifest, lineage, download)."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lineage import queries
from lineage.errors import BadInput, NotFound
from lineage.graph import LineageGraph, fetch_lineage
from lineage.nodes import Node, parse_time
from lineage.paging import PagedList, page_of

if TYPE_CHECKING:
    from lineage.api import Api
    from lineage.runs import Run

ENTRIES_PAGE = 1000  # the service's largest page


@dataclass
class ManifestEntry:
    """One file of a version: stored content (``digest`` is its sha256) or a reference
    (``ref``; ``digest`` is the ETag, ``extra`` has ``etag`` and ``versionID``)."""

    path: str
    digest: str | None
    size: int | None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    download_url: str | None = None
    local_path: Path | None = None  # for an artifact being built: where the bytes are
    checksum: bool = True  # for a reference being built: measured (or the URI only)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ManifestEntry:
        return cls(
            data["path"], data["digest"], data["size"], data["ref"], data["extra"] or {},
            data.get("downloadUrl"),
        )  # fmt: skip


class Manifest:
    """``entries``: path -> ManifestEntry, every page fetched on first use."""

    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact
        self._entries: dict[str, ManifestEntry] | None = None

    @property
    def entries(self) -> dict[str, ManifestEntry]:
        if not self._artifact.is_logged:
            return dict(self._artifact._local)
        if self._entries is None:
            self._entries = {e.path: e for e in self._artifact.files(page_size=ENTRIES_PAGE)}
        return self._entries


class Artifact(Node):
    """``Artifact(name, type)`` starts a new artifact to log; ``Api.artifact(path)`` and
    the lineage methods return logged ones."""

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._api: Api | None = None  # type: ignore[assignment]
        self._data = {"name": name, "type": type, "description": description}
        self._data["metadata"] = dict(metadata or {})
        self._local: dict[str, ManifestEntry] = {}
        self._manifest = Manifest(self)
        self._scratch: Path | None = None

    @classmethod
    def from_data(cls, api: Api, data: dict[str, Any]) -> Artifact:
        artifact = cls.__new__(cls)
        Node.__init__(artifact, api, data)
        artifact._local = {}
        artifact._manifest = Manifest(artifact)
        artifact._scratch = None
        return artifact

    def _bind(self, api: Api, data: dict[str, Any]) -> None:
        """After logging: this object now names the committed version."""
        self._api = api
        self._data = dict(data)
        self._manifest = Manifest(self)

    @property
    def is_logged(self) -> bool:
        return "id" in self._data

    def _field(self, name: str) -> Any:
        if not self.is_logged:
            return self._data.get(name)
        return super()._field(name)

    def _logged_api(self) -> Api:
        if not self.is_logged or self._api is None:
            raise BadInput(f"artifact {self.name!r} is not logged yet: log it with a run first")
        return self._api

    # -- fields -------------------------------------------------------------------------

    @property
    def id(self) -> str:
        self._logged_api()
        return super().id

    @property
    def name(self) -> str:
        return str(self._data["name"])

    @property
    def type(self) -> str:
        return str(self._data["type"])

    @property
    def path(self) -> str:
        """``entity/project/name:vN`` once logged; the name alone before."""
        return str(self._data["path"]) if self.is_logged else self.name

    @property
    def qualified_path(self) -> str:
        """The path of exactly this version (``entity/project/name:vN``)."""
        project = str(self._data["path"]).rsplit(":", 1)[0]
        return f"{project}:{self.version}"

    @property
    def version(self) -> str | None:
        return self._data.get("version")

    @property
    def version_index(self) -> int | None:
        return self._data.get("versionIndex")

    @property
    def digest(self) -> str | None:
        return self._data.get("digest")

    @property
    def aliases(self) -> list[str]:
        return list(self._data.get("aliases") or [])

    @property
    def description(self) -> str | None:
        return self._field("description")  # type: ignore[no-any-return]

    @property
    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = self._field("metadata")
        return metadata

    @property
    def state(self) -> str | None:
        return self._data.get("state")

    @property
    def size(self) -> int:
        if not self.is_logged:
            return sum(e.size or 0 for e in self._local.values())
        return int(self._data["size"])

    @property
    def file_count(self) -> int:
        return len(self._local) if not self.is_logged else int(self._data["fileCount"])

    @property
    def created_at(self) -> datetime | None:  # type: ignore[override]
        return parse_time(self._data["createdAt"]) if self.is_logged else None

    @property
    def ttl_duration_seconds(self) -> int | None:
        return self._data.get("ttlDurationSeconds")

    @property
    def expires_at(self) -> datetime | None:
        value = self._data.get("expiresAt")
        return parse_time(value) if value else None

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    def __repr__(self) -> str:
        return f"<Artifact {self.path}>" if self.is_logged else f"<Artifact {self.name} (draft)>"

    # -- building -----------------------------------------------------------------------

    def _add(self, entry: ManifestEntry) -> ManifestEntry:
        if self.is_logged:
            raise BadInput(
                f"artifact {self.path} is logged already; start a new Artifact to change files"
            )
        check_entry_path(entry.path)
        if entry.path in self._local:
            raise BadInput(f"the artifact already has a file at {entry.path!r}")
        self._local[entry.path] = entry
        return entry

    def add_file(
        self, local_path: str | os.PathLike[str], name: str | None = None
    ) -> ManifestEntry:
        """Add one file, at ``name`` (default: its file name). Its content is hashed when
        the artifact is logged, so the bytes logged are the bytes uploaded."""
        source = Path(local_path)
        if not source.is_file():
            raise BadInput(f"{source} is not a file")
        return self._add(
            ManifestEntry(name or source.name, None, source.stat().st_size, local_path=source)
        )

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None) -> None:
        """Add every file under a folder, at its path below the folder (under ``name``)."""
        root = Path(local_path)
        if not root.is_dir():
            raise BadInput(f"{root} is not a folder")
        prefix = f"{name.strip('/')}/" if name else ""
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for file_name in sorted(files):
                source = Path(folder, file_name)
                if source.is_file():  # not a broken link, a socket or a fifo
                    relative = source.relative_to(root).as_posix()
                    self.add_file(source, prefix + relative)

    def add_reference(self, uri: str, name: str | None = None, checksum: bool = True) -> None:
        """Point at objects in S3 instead of storing them. ``s3://bucket/key`` adds one
        entry (at ``name``, default the key's file name), ``s3://bucket/prefix/`` one per
        object under the prefix (at its key below the prefix, under ``name``).

        With ``checksum`` the objects are read now with your own AWS credentials (the
        usual AWS settings; AWS_ENDPOINT_URL for MinIO or other S3-compatible servers):
        ETag, version id and size are recorded, so a download returns exactly these
        versions. Without botocore or credentials, the service reads them instead."""
        from lineage.references import measure

        for ref in measure(uri, checksum):
            if ref.relpath:
                path = f"{name.strip('/')}/{ref.relpath}" if name else ref.relpath
            else:
                path = name or uri.rstrip("/").rsplit("/", 1)[-1]
            extra = {"etag": ref.etag} if ref.etag else {}
            if ref.version_id:
                extra["versionID"] = ref.version_id
            self._add(ManifestEntry(path, ref.etag, ref.size, ref.uri, extra, checksum=checksum))

    @contextmanager
    def new_file(
        self, name: str, mode: str = "w", encoding: str | None = "utf-8"
    ) -> Iterator[IO[Any]]:
        """Write a new file into the artifact: ``with artifact.new_file("a.txt") as f``."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="lineage-artifact-"))
            weakref.finalize(self, shutil.rmtree, self._scratch, True)
        check_entry_path(name)
        target = self._scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
        self.add_file(target, name)

    # -- reading ------------------------------------------------------------------------

    def files(self, page_size: int = ENTRIES_PAGE) -> PagedList[ManifestEntry]:
        """The manifest's entries in path order, paged."""
        api = self._logged_api()

        def fetch(after: str | None, first: int) -> Any:
            variables = {"id": self.id, "first": first, "after": after}
            node = api.graphql(queries.ENTRIES, variables)["node"]
            if node is None:
                raise NotFound(f"artifact {self.path} is no longer readable")
            return page_of(node["manifest"]["entries"], ManifestEntry.from_data)

        return PagedList(fetch, page_size)

    def logged_by(self) -> Run | None:
        """The run that logged this version; None when hidden from you."""
        from lineage.runs import Run

        api = self._logged_api()
        node = api.graphql(queries.LOGGED_BY, {"id": self.id})["node"]
        if node is None:
            raise NotFound(f"artifact {self.path} is no longer readable")
        return None if node["loggedBy"] is None else Run(api, node["loggedBy"])

    def used_by(self) -> PagedList[Run]:
        """Runs that used this version, in order of first use."""
        from lineage.runs import Run

        api = self._logged_api()

        def fetch(after: str | None, first: int) -> Any:
            variables = {"id": self.id, "first": first, "after": after}
            node = api.graphql(queries.USED_BY, variables)["node"]
            if node is None:
                raise NotFound(f"artifact {self.path} is no longer readable")
            return page_of(node["usedBy"], lambda d: Run(api, d))

        return PagedList(fetch)

    def lineage(self, direction: str = "both", depth: int = 1, limit: int = 1000) -> LineageGraph:
        return fetch_lineage(self._logged_api(), self, direction, depth, limit)

    def download(self, root: str | os.PathLike[str] | None = None) -> Path:
        """Every file of this version under ``root`` (default ``./artifacts/<name>:<version>``);
        returns that folder. Files already there with the right sha256 are kept, so an
        interrupted download resumes; contents already in the local cache are linked
        from it instead of fetched."""
        from lineage.download import download_artifact

        api = self._logged_api()
        target = (
            Path(root) if root is not None else Path("artifacts", f"{self.name}:{self.version}")
        )
        download_artifact(api, self, target)
        return target


def check_entry_path(path: str) -> None:
    """The service's rules for manifest paths, checked before anything is hashed."""
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or any(c in path for c in "\x00\t\n\r")
    ):
        raise BadInput(
            f"invalid path {path!r} in the artifact: use a relative POSIX path "
            "without '..', empty segments, tabs or line breaks"
        )
