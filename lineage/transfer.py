"""Moving bytes to and from signed URLs: a bounded pool of threads over one keep-alive
HTTP client, retries with backoff, and streaming in fixed chunks (flat memory)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from lineage.errors import LineageError, TransferError
from lineage.hashing import Hashes
from lineage.transport import check_retryable, with_retries

J = TypeVar("J")

WORKERS = 16
CHUNK = 1024 * 1024
# 403 is how both S3 and the service's own /files URLs refuse an expired signature
EXPIRED_STATUS = 403


class UrlExpired(Exception):
    """The signed URL was refused: ask the service for a fresh one."""


def run_parallel(
    jobs: Iterable[J],
    work: Callable[[J], None],
    describe: Callable[[J], str],
    workers: int = WORKERS,
) -> None:
    """``work(job)`` for every job on ``workers`` threads. Jobs are taken from the
    iterable as workers free up (a few queued each), so a lazy iterable (pages of a
    manifest) is consumed as the transfer goes. Every job runs even when some fail (what
    finished need not be done again); then the first failure is raised."""
    failures: list[tuple[J, BaseException]] = []
    total = 0
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lineage-transfer")
    pending: dict[Future[None], J] = {}

    def collect(done: Iterable[Future[None]]) -> None:
        for future in done:
            job = pending.pop(future)
            error = future.exception()
            if error is not None:
                failures.append((job, error))

    try:
        for job in jobs:
            total += 1
            if len(pending) >= workers * 2:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
            pending[pool.submit(work, job)] = job
        collect(wait(pending).done)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: stop queued work
        raise
    pool.shutdown()
    if failures:
        job, error = failures[0]
        more = f" ({len(failures)} of {total} files failed)" if len(failures) > 1 else ""
        if isinstance(error, LineageError) and not isinstance(error, TransferError):
            raise type(error)(
                f"{describe(job)}: {error.message}{more}", request_id=error.request_id
            ) from error
        raise TransferError(f"{describe(job)}: {error}{more}") from error


@contextmanager
def temp_path_beside(target: Path) -> Iterator[Path]:
    """A fresh name in ``target``'s folder (so renaming onto the target is atomic), for
    the caller to create; removed unless the caller renamed it. Not mkstemp: creating the
    file there and opening it again doubled the file creations of a small-file download,
    its largest cost after the network."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name[:60]}.{uuid.uuid4().hex[:16]}.part"
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def fetch(
    http: httpx.Client,
    url: str,
    into: Path,
    on_bytes: Callable[[int], None],
    algorithms: tuple[str, ...] = ("sha256",),
) -> dict[str, str]:
    """GET ``url`` into the file ``into``; returns the hex digests of what arrived.
    Retried on 429/5xx and connection errors (each attempt starts the file over)."""

    def attempt() -> dict[str, str]:
        received = 0
        hashes: Hashes | None = None
        try:
            with http.stream("GET", url) as response:
                if response.status_code == EXPIRED_STATUS:
                    raise UrlExpired()
                check_retryable(response)
                if response.status_code != 200:
                    raise TransferError(f"download refused: HTTP {response.status_code}")
                length = response.headers.get("content-length", "")
                hashes = Hashes(algorithms, int(length) if length.isdigit() else None)
                with open(into, "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        hashes.update(chunk)
                        received += len(chunk)
                        on_bytes(len(chunk))
            return hashes.hexdigests()
        except BaseException:
            on_bytes(-received)  # the retry counts them again
            raise
        finally:
            if hashes is not None:
                hashes.close()

    return with_retries(attempt, what="download")


def put(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    source: Path,
    size: int,
    on_bytes: Callable[[int], None],
) -> None:
    """PUT the file at ``source`` to ``url`` in chunks, with its length announced (S3
    refuses chunked uploads to presigned URLs); retried like ``fetch``."""

    def attempt() -> None:
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            with open(source, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    sent += len(chunk)
                    on_bytes(len(chunk))
                    yield chunk

        try:
            response = http.put(
                url, content=body(), headers={**headers, "content-length": str(size)}
            )
        except BaseException:
            on_bytes(-sent)
            raise
        if response.status_code == EXPIRED_STATUS:
            on_bytes(-sent)
            raise UrlExpired()
        if response.status_code in (429, 500, 502, 503, 504):
            on_bytes(-sent)
        check_retryable(response)
        if response.status_code not in (200, 201, 204):
            raise TransferError(
                f"upload refused: HTTP {response.status_code}: {response.text[:300].strip()}"
            )

    with_retries(attempt, what="upload")
