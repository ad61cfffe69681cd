"""A faulty network in front of ``lineage serve``: a small HTTP proxy that answers the
next requests matching a path with 503/429, drops the connection, or holds them, then
passes requests through. The client's retries and URL refreshes are tested against it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: deque[tuple[str, str, str]] = deque()  # (method, path prefix, fault)
        self.seen: list[tuple[str, str]] = []  # (method, path with query) of every request
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                proxy.handle(self)

            do_PUT = do_POST = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fail_next(self, method: str, path_prefix: str, *faults: str) -> None:
        """Faults for the next requests: "503", "429", "drop" (close without answering),
        or "hold:<seconds>" (wait, then pass the request on)."""
        with self._lock:
            self.faults.extend((method, path_prefix, f) for f in faults)

    def _take_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault[0] == method and path.startswith(fault[1]):
                    self.faults.remove(fault)
                    return fault[2]
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        with self._lock:
            self.seen.append((request.command, request.path))
        fault = self._take_fault(request.command, request.path)
        if fault == "drop":
            request.close_connection = True
            request.connection.shutdown(2)
            return
        if fault in ("503", "429"):
            request.send_response(int(fault))
            request.send_header("content-length", "0")
            if fault == "429":
                request.send_header("retry-after", "0")
            request.end_headers()
            return
        if fault is not None and fault.startswith("hold:"):
            time.sleep(float(fault.split(":")[1]))  # the fault under test: time passing
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = self._http.request(
            request.command, self.upstream + request.path, content=body, headers=headers
        )
        request.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
                request.send_header(key, value)
        request.send_header("content-length", str(len(answer.content)))
        request.end_headers()
        request.wfile.write(answer.content)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._http.close()


@contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
