"""Reading a request body with a hard size limit, without buffering past it."""

from __future__ import annotations

from starlette.requests import Request

from server.errors import PayloadTooLarge

MAX_BODY_BYTES = 32 * 1024 * 1024
# Anonymous callers may only read public projects: a query never needs a megabyte, and
# this keeps one anonymous request from costing the event loop half a second of JSON
# decoding (a 32 MiB body did).
MAX_ANONYMOUS_BODY_BYTES = 1024 * 1024


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES, hint: str = "") -> bytes:
    too_large = PayloadTooLarge(f"request body is larger than {limit // (1024 * 1024)} MiB{hint}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    # Chunked requests carry no Content-Length: count while streaming and stop at the limit.
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
