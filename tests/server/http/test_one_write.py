"""POST /graphql's answer leaves uvicorn in one write: head and body together
(server/http/onewrite.py), with keep-alive and with ``Connection: close``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
import uvicorn
from asgi_lifespan import LifespanManager
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from server.app import create_app
from server.settings import Settings


class RecordingTransport(asyncio.Transport):
    """What uvicorn writes to the socket, one entry per write call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def writelines(self, list_of_data: Iterable[Any]) -> None:
        self.writes.append(b"".join(bytes(d) for d in list_of_data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def http_post(body: bytes, key: str, close: bool) -> bytes:
    head = (
        "POST /graphql HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {key}\r\ncontent-length: {len(body)}\r\n"
        + ("connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode() + body


async def test_the_answer_is_written_once(settings: Settings, make_user: Any) -> None:
    alice = await make_user("w")
    body = orjson.dumps({"query": "{ viewer { username } }"})
    async with LifespanManager(create_app(settings), startup_timeout=30) as manager:
        # ws="none": loading uvicorn's websocket protocol imports websockets.legacy, which
        # warns (an error here) with the oldest versions the project declares
        config = uvicorn.Config(manager.app, lifespan="off", log_config=None, ws="none")
        for close in (False, True):
            state = ServerState()
            protocol = HttpToolsProtocol(config=config, server_state=state, app_state={})
            transport = RecordingTransport()
            protocol.connection_made(transport)
            protocol.data_received(http_post(body, alice.key, close))
            await asyncio.gather(*state.tasks)

            assert len(transport.writes) == 1, transport.writes
            head, _, answer = transport.writes[0].partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert orjson.loads(answer) == {"data": {"viewer": {"username": alice.name}}}
            assert transport.closed is close
            protocol.connection_lost(None)
