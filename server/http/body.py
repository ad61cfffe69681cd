"""Reading a request body with a hard size limit, without buffering past it."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from server.errors import PayloadTooLarge

MAX_BODY_BYTES = 32 * 1024 * 1024
# Anonymous callers may only read public projects: a query never needs a megabyte, and
# this keeps one anonymous request from costing the event loop half a second of JSON
# decoding (a 32 MiB body did).
MAX_ANONYMOUS_BODY_BYTES = 1024 * 1024


def _too_large(limit: int, hint: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is larger than {limit // (1024 * 1024)} MiB{hint}")


def header(request: Request, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case), as ``request.headers.get``
    gives it, read from the ASGI scope without building Starlette's Headers (names
    arrive in lower case: the ASGI spec says so)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES, hint: str = "") -> bytes:
    """The body, read straight from the ASGI messages (as ``request.stream()`` does,
    without its async generator; nothing reads the body again): PayloadTooLarge past
    ``limit``, ClientDisconnect when the client leaves before the end."""
    declared = header(request, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, hint)
    # Chunked requests carry no Content-Length: count while streaming and stop at the limit.
    chunks: list[bytes] = []
    received = 0
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise _too_large(limit, hint)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        elif kind == "http.disconnect":
            raise ClientDisconnect
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
