"""HTTP under everything: one keep-alive connection pool, timeouts, retries with backoff,
and the GraphQL call that turns error codes into typed exceptions."""

from __future__ import annotations

import atexit
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from lineage.config import ClientSettings
from lineage.errors import LineageError, Unavailable, error_for

T = TypeVar("T")

POOL_SIZE = 16
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5  # then 1, 2, 4: a server restarting gets ~7 s to come back
# connect fast or not at all; a read may wait for a slow server (or a big file's chunk)
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryableStatus(Exception):
    """An answer worth asking again (429, 5xx); ``retry_after`` from the server, if any."""

    def __init__(self, response: httpx.Response, message: str | None = None) -> None:
        super().__init__(message or f"HTTP {response.status_code} from {response.url.host}")
        self.status_code = response.status_code
        header = response.headers.get("retry-after", "")
        self.retry_after = float(header) if header.replace(".", "", 1).isdigit() else None


def check_retryable(response: httpx.Response) -> httpx.Response:
    if response.status_code in RETRY_STATUSES:
        response.close()
        raise RetryableStatus(response)
    return response


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF_SECONDS,
) -> T:
    """Run ``operation``, again after a pause when it raises RetryableStatus or a transport
    error (connection refused or reset, timeout); the pause doubles each time, with jitter
    so that 16 workers hitting one overloaded server do not come back in step."""
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except (RetryableStatus, httpx.TransportError) as exc:
            if attempt == attempts:
                raise Unavailable(f"{what} failed after {attempts} attempts: {exc}") from exc
            pause = backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
                pause = max(pause, min(exc.retry_after, 60.0))
            time.sleep(pause)
    raise AssertionError("unreachable")


def new_http_client(pool_size: int = POOL_SIZE) -> httpx.Client:
    """A client every thread of a transfer shares (httpx pools connections per host);
    a few connections beyond the transfer's workers keep GraphQL calls from queueing."""
    limits = httpx.Limits(max_connections=pool_size + 4, max_keepalive_connections=pool_size + 4)
    return httpx.Client(timeout=TIMEOUT, limits=limits, follow_redirects=False)


_shared: httpx.Client | None = None
_shared_lock = threading.Lock()


def shared_http_client() -> httpx.Client:
    """One pool for the whole process: every Api and Run reuses its open connections
    (a notebook makes many objects; each with a pool of its own would reconnect), and
    it lives until the interpreter exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = new_http_client()
            atexit.register(_shared.close)
        return _shared


class Transport:
    """GraphQL over the shared HTTP client, with the API key and retries."""

    def __init__(self, settings: ClientSettings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.http = http or shared_http_client()
        self._headers = {"authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}

    @property
    def graphql_url(self) -> str:
        return f"{self.settings.base_url}/graphql"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a successful answer; a typed LineageError otherwise.

        Retried on connection errors, 429/5xx and UNAVAILABLE: the service runs each
        mutation in one transaction, so one that failed changed nothing; and the client's
        mutations are idempotent or harmless to repeat (a repeated log is deduplicated or
        leaves a pending version the service cleans up)."""
        body = {"query": query, "variables": variables or {}}

        def call() -> dict[str, Any]:
            response = check_retryable(
                self.http.post(self.graphql_url, json=body, headers=self._headers)
            )
            payload = _json_body(response)
            errors = payload.get("errors") or []
            if errors:
                error = _error_of(errors[0], response)
                if isinstance(error, Unavailable):
                    raise RetryableStatus(response, str(error)) from error
                raise error
            if response.status_code != 200 or not isinstance(payload.get("data"), dict):
                raise LineageError(
                    f"unexpected answer from {self.graphql_url}: HTTP {response.status_code}",
                    request_id=response.headers.get("x-request-id"),
                )
            data: dict[str, Any] = payload["data"]
            return data

        return with_retries(call, what=f"request to {self.graphql_url}")

    def close(self) -> None:
        if self.http is not _shared:
            self.http.close()


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise LineageError(
            f"{response.url} did not answer with GraphQL (HTTP {response.status_code}); "
            "is LINEAGE_BASE_URL the service's address?",
            request_id=response.headers.get("x-request-id"),
        )
    return payload


def _error_of(error: Any, response: httpx.Response) -> LineageError:
    message = str(error.get("message") or "error") if isinstance(error, dict) else str(error)
    extensions = error.get("extensions") if isinstance(error, dict) else None
    code = extensions.get("code") if isinstance(extensions, dict) else None
    if code is None and error.get("locations"):
        code = "BAD_USER_INPUT"  # a GraphQL validation error: the query itself is wrong
    return error_for(code, message, response.headers.get("x-request-id"))
