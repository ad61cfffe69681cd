"""S3 references, read with the user's own AWS credentials (as W&B does): the client
measures each object (ETag, version id, size) and sends that, so the service need not
be able to read the bucket; and a download can read a recorded object version itself
when the service gives no URL for it.

botocore is optional: without it (or without credentials) references are sent as URIs
and the service reads them, where its operator allowed that bucket.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage.errors import BadInput, Unavailable

log = logging.getLogger(__name__)

HEAD_WORKERS = 16
MAX_OBJECTS = 10_000  # the service's limit for one prefix


@dataclass(frozen=True)
class MeasuredRef:
    relpath: str  # the key below the prefix; "" for one object
    uri: str
    etag: str | None  # None: not measured (checksum off, or left to the service)
    version_id: str | None
    size: int | None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise BadInput(f"reference {uri!r} is not an s3://bucket/key URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def s3_client() -> Any | None:
    """A botocore S3 client from the usual AWS settings; None without botocore or
    credentials. AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL point it at MinIO, moto, ..."""
    try:
        import botocore.session
        from botocore.config import Config
    except ImportError:
        return None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    cache_key = endpoint or ""
    with _clients_lock:
        if cache_key not in _clients:
            session = botocore.session.get_session()
            if session.get_credentials() is None:
                return None
            config = Config(
                s3={"addressing_style": "path"} if endpoint else {},
                max_pool_connections=HEAD_WORKERS,
                retries={"max_attempts": 5, "mode": "standard"},
            )
            _clients[cache_key] = session.create_client("s3", endpoint_url=endpoint, config=config)
        return _clients[cache_key]


def measure(uri: str, checksum: bool) -> list[MeasuredRef]:
    """The entries for a reference: one object, or every object under a prefix."""
    bucket, key = parse_s3_uri(uri)
    if not checksum:
        return [MeasuredRef("", uri, None, None, None)]
    client = s3_client()
    if client is None:
        log.info("no AWS credentials here: the service will read %s", uri)
        return [MeasuredRef("", uri, None, None, None)]
    with _s3_errors(uri):
        if key and not key.endswith("/"):
            return [_from_head("", uri, client.head_object(Bucket=bucket, Key=key))]
        return _measure_prefix(client, uri, bucket, key)


def _measure_prefix(client: Any, uri: str, bucket: str, prefix: str) -> list[MeasuredRef]:
    listed: list[MeasuredRef] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/"):
                continue  # a console "folder" marker, not content
            if len(listed) >= MAX_OBJECTS:
                raise BadInput(
                    f"reference {uri} has more than {MAX_OBJECTS} objects; use a narrower prefix"
                )
            listed.append(
                MeasuredRef(
                    item["Key"][len(prefix) :], f"s3://{bucket}/{item['Key']}",
                    item["ETag"].strip('"'), None, item["Size"],
                )
            )  # fmt: skip
    if not listed:
        raise BadInput(f"reference {uri} matches no objects")
    if not _versioned(client, bucket):
        return listed

    # a HEAD per object gives ETag, size and version id from one snapshot of it
    def head(ref: MeasuredRef) -> MeasuredRef:
        _, key = parse_s3_uri(ref.uri)
        return _from_head(ref.relpath, ref.uri, client.head_object(Bucket=bucket, Key=key))

    with ThreadPoolExecutor(HEAD_WORKERS) as pool:
        return list(pool.map(head, listed))


def _versioned(client: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        status = client.get_bucket_versioning(Bucket=bucket).get("Status")
    except ClientError:
        return True  # may not ask: HEAD every object to be sure
    return status in ("Enabled", "Suspended")


def _from_head(relpath: str, uri: str, head: dict[str, Any]) -> MeasuredRef:
    version = head.get("VersionId")
    return MeasuredRef(
        relpath, uri, head["ETag"].strip('"'),
        version if version and version != "null" else None, int(head["ContentLength"]),
    )  # fmt: skip


@contextmanager
def _s3_errors(uri: str) -> Iterator[None]:
    """S3's answers about the user's URI as errors that say what to fix."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
            raise BadInput(f"reference {uri} does not exist") from None
        if status == 403:
            raise BadInput(f"reference {uri} is not readable with your AWS credentials") from None
        raise Unavailable(f"reading {uri}: {code or exc}") from None
    except BotoCoreError as exc:
        raise Unavailable(f"reading {uri}: {exc}") from None


def read_object(
    uri: str, version_id: str | None, into: Path, on_chunk: Callable[[bytes], None]
) -> bool:
    """Stream one recorded object version into ``into`` with your own credentials;
    False when this machine cannot read S3 (no botocore or credentials)."""
    client = s3_client()
    if client is None:
        return False
    bucket, key = parse_s3_uri(uri)
    params = {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
    with _s3_errors(uri):
        body = client.get_object(**params)["Body"]
        with open(into, "wb") as out:
            for chunk in _chunks(body):
                out.write(chunk)
                on_chunk(chunk)
    return True


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        while chunk := body.read(1024 * 1024):
            yield chunk
    finally:
        body.close()
