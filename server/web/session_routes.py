"""Sign in and out of the web app: ``POST /-/session`` exchanges an API key for an
HttpOnly session cookie, ``DELETE /-/session`` ends the session and clears it."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.domain import sessions
from server.errors import BadUserInput, ServiceError
from server.http.body import read_limited_body
from server.http.errors import error_body
from server.settings import Settings
from server.web.auth import SESSION_COOKIE, check_same_site

MAX_SIGN_IN_BYTES = 4096


def _error(exc: ServiceError) -> JSONResponse:
    status = (
        exc.http_status
        if exc.http_status != 200
        else (401 if exc.code == "UNAUTHENTICATED" else 400)
    )
    return JSONResponse(error_body(exc.code, exc.message), status_code=status)


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.base_url.startswith("https://")


async def sign_in(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        # also for sign-in: another site must not sign a browser in to its own account
        check_same_site(request)
        body = await read_limited_body(request, MAX_SIGN_IN_BYTES)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
        key = payload.get("apiKey") if isinstance(payload, dict) else None
        if not isinstance(key, str) or not key.strip() or "\0" in key:
            raise BadUserInput('send a JSON object {"apiKey": "<your API key>"}')
        started = await sessions.start_session(request.state.db, key, settings.session_ttl_seconds)
    except ServiceError as exc:
        return _error(exc)
    response = JSONResponse({"username": started.username}, headers={"cache-control": "no-store"})
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
    )
    return response


async def sign_out(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            check_same_site(request)
        except ServiceError as exc:
            return _error(exc)
        await sessions.end_session(request.state.db, token)
    response = JSONResponse({"signedOut": True}, headers={"cache-control": "no-store"})
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request, settings)
    )
    return response
