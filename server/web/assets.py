"""The built web app (server/web/static, made by web/build.mjs) and how it is served.

File names carry a hash of their content, so they are cached for a year; the manifest
maps logical names ("app.js") to them. ``sources_hash`` is the build's fingerprint of
web/: a test recomputes it from the sources to catch a stale build.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

STATIC_PREFIX = "/-/static"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Manifest:
    sources_hash: str
    files: dict[str, str]

    def url(self, logical: str) -> str:
        return f"{STATIC_PREFIX}/{self.files[logical]}"


def _static_dir() -> resources.abc.Traversable:
    return resources.files("server.web").joinpath("static")


@functools.cache
def manifest() -> Manifest:
    data = json.loads(_static_dir().joinpath("manifest.json").read_text())
    return Manifest(data["sourcesHash"], dict(data["files"]))


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes
    media_type: str


@functools.cache
def _asset(name: str) -> _Asset | None:
    if name not in set(manifest().files.values()):
        return None  # only what the build made: no path tricks, no stray files
    body = _static_dir().joinpath(name).read_bytes()
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith("javascript"):
        media_type += "; charset=utf-8"
    return _Asset(body, gzip.compress(body, compresslevel=9, mtime=0), media_type)


async def static_asset(request: Request) -> Response:
    asset = _asset(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("not found", status_code=404)
    headers = {
        "cache-control": IMMUTABLE,
        "x-content-type-options": "nosniff",
        "vary": "accept-encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def sources_hash(web_dir: Path) -> str:
    """The fingerprint web/build.mjs records: every file under web/ but node_modules, by
    POSIX path in byte order, one line "path NUL sha256(content)" each, hashed again."""
    files = sorted(
        (
            p
            for p in web_dir.rglob("*")
            if p.is_file() and "node_modules" not in p.relative_to(web_dir).parts
        ),
        key=lambda p: p.relative_to(web_dir).as_posix().encode(),
    )
    total = hashlib.sha256()
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        total.update(f"{path.relative_to(web_dir).as_posix()}\0{digest}\n".encode())
    return total.hexdigest()
