"""An answer's status line, headers and body in one write to the socket.

uvicorn writes a response's head when the app sends ``http.response.start`` and its body
when the app sends ``http.response.body``: two ``write`` calls, and with TCP_NODELAY two
segments, so the client wakes up for the head, parses it and waits again for the body.
For a small answer (Q1: ~200 bytes of head, ~400 of body) that second system call and
wake-up on both sides is a measurable part of the request (README "Performance").

``one_write(send)`` gives the server's transport to uvicorn's request/response cycle
(the object ``send`` is a method of) wrapped so that its writes are held until the app's
response is sent, then go out with one ``writelines`` (one ``writev``, no copy). What
does not look like uvicorn's cycle (another server, a test client) is left as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class _HeldWrites:
    """The transport, except that ``write`` keeps the data until ``flush``."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if data:
            self._held.append(data)

    def flush(self) -> None:
        held = self._held
        if not held or self._transport.is_closing():
            held.clear()
            return
        if len(held) == 1:
            self._transport.write(held[0])
        else:
            self._transport.writelines(held)
        held.clear()

    def close(self) -> None:
        # uvicorn closes the connection right after the body of a non-keep-alive answer
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


async def one_write(send: Callable[..., Awaitable[None]], respond: Awaitable[None]) -> None:
    """Await ``respond`` (which sends one response through ``send``) with its writes to
    the socket made as one."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "writelines"):
        await respond
        return
    held = _HeldWrites(transport)
    cycle.transport = held  # type: ignore[union-attr]
    try:
        await respond
    finally:
        cycle.transport = transport  # type: ignore[union-attr]
        held.flush()
