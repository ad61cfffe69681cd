"""The folder store's signed ``/files`` URLs (its answer to S3 presigned URLs): made by
the store, checked by the ``/files`` routes through it before anything touches the
filesystem.

A URL carries the operation, its expiry and an HMAC-SHA256 of them with the key and what
the request may do (for a PUT: the exact sha256 and size; for a GET: the download's file
name) under the service's secret, which every replica shares (``LINEAGE_SECRET``), so a
URL signed by one replica verifies on another.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from server.storage.base import check_staging_target

SIGNATURE_CONTEXT = "lineage-files-v1"


class FileRequestRefused(Exception):
    """A /files request that will not be served; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """What a verified URL allows besides its operation and key: a PUT of exactly
    ``sha256`` and ``size`` bytes, or a GET saved as ``filename`` ("" for none)."""

    sha256: str
    size: int
    filename: str


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str, ttl_seconds: int) -> None:
        if not secret:
            raise ValueError("signed URLs need a non-empty secret")
        self.base_url = base_url.rstrip("/")
        self.ttl_seconds = ttl_seconds
        self._hmac = hmac.new(secret, digestmod="sha256")  # copied per message: keyed once

    def signature(self, op: str, key: str, exp: int, sha256: str, size: str, filename: str) -> str:
        # Fixed field order; only the last field may hold arbitrary text, so no two
        # different requests share a message.
        message = "\n".join([SIGNATURE_CONTEXT, op, key, str(exp), sha256, size, filename])
        mac = self._hmac.copy()
        mac.update(message.encode())
        return mac.hexdigest()

    def _expiry(self) -> int:
        return int(time.time()) + self.ttl_seconds

    def upload_urls(self, items: Sequence[tuple[str, str, int]]) -> list[str]:
        """A PUT URL for each (staging key, sha256, size), all expiring together."""
        exp = self._expiry()
        urls = []
        for staging_key, sha256, size in items:
            check_staging_target(staging_key, sha256, size)
            sig = self.signature("put", staging_key, exp, sha256, str(size), "")
            # what urlencode() makes of these fields, none of which needs escaping
            query = f"op=put&exp={exp}&sha256={sha256}&size={size}&sig={sig}"
            urls.append(f"{self.base_url}/files/{staging_key}?{query}")
        return urls

    def download_url(self, key: str, filename: str | None) -> str:
        exp = self._expiry()
        params: dict[str, str | int] = {"op": "get", "exp": exp}
        if filename:
            params["filename"] = filename
        params["sig"] = self.signature("get", key, exp, "", "", filename or "")
        return f"{self.base_url}/files/{key}?{urlencode(params)}"

    def verify(self, op: str, key: str, query: Mapping[str, str]) -> SignedRequest:
        """What a request for ``op`` on ``key`` with this query string was signed for;
        FileRequestRefused (403) unless it was, and still is valid."""
        if query.get("op") != op:
            raise FileRequestRefused(403, "URL not valid for this method")
        sha256 = query.get("sha256", "") if op == "put" else ""
        size = query.get("size", "") if op == "put" else ""
        filename = query.get("filename", "") if op == "get" else ""
        try:
            exp = int(query.get("exp", ""))
        except ValueError:
            raise FileRequestRefused(403, "invalid signature") from None
        expected = self.signature(op, key, exp, sha256, size, filename)
        # as bytes: compare_digest raises TypeError for non-ASCII text (a 500, before)
        given = query.get("sig", "").encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(expected.encode(), given):
            raise FileRequestRefused(403, "invalid signature")
        if exp < time.time():
            raise FileRequestRefused(403, "URL expired")
        try:
            declared_size = int(size) if op == "put" else -1
            if op == "put":
                check_staging_target(key, sha256, declared_size)
        except ValueError:
            raise FileRequestRefused(403, "invalid signature") from None
        return SignedRequest(sha256, declared_size, filename)
