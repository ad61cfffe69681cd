"""Who is asking: the Bearer key (API clients) or the web app's session cookie.

A cookie is sent by the browser whatever page started the request, so a request that
relies on it must prove it comes from this site's own pages (CSRF): a same-origin
``Origin`` (or ``Referer``) header and a JSON content type, which a cross-site form or
"simple" request cannot send without the browser asking first (CORS preflight, which
this server never grants). Bearer requests carry their credential themselves and are
unaffected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from server.domain import sessions
from server.domain.access import Viewer
from server.domain.accounts import authenticate
from server.errors import Forbidden, Unauthenticated
from server.settings import Settings

SESSION_COOKIE = "lineage_session"


class CrossSiteRequest(Forbidden):
    http_status = 403


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(request: Request, settings: Settings) -> set[str]:
    """This server's origins: as the request reached it, and its public URL (behind a proxy)."""
    origins = {_origin(str(request.base_url)), _origin(settings.base_url)}
    return {o for o in origins if o}


def check_same_site(request: Request) -> None:
    """Refuse a cookie-authenticated request that does not come from this site's pages."""
    settings: Settings = request.app.state.settings
    claimed = request.headers.get("origin")
    if claimed is None or claimed == "null":
        referer = request.headers.get("referer")
        claimed = _origin(referer) if referer else None
    if claimed is None or claimed.lower() not in own_origins(request, settings):
        raise CrossSiteRequest(
            "cross-site request refused: a request signed in with the session cookie must come "
            "from this server's own pages (same Origin); API clients send "
            "'Authorization: Bearer <api key>' instead"
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise CrossSiteRequest(
            "a request signed in with the session cookie must send 'Content-Type: application/json'"
        )


async def request_viewer(request: Request) -> Viewer | None:
    """The viewer of an API request. A Bearer key wins (a wrong one is UNAUTHENTICATED, never
    anonymous); else the session cookie, after the same-site check; else anonymous."""
    db = request.state.db
    header = request.headers.get("authorization")
    if header is not None and header.strip():
        return await authenticate(db, header)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    check_same_site(request)
    viewer = await sessions.session_viewer(db, token)
    if viewer is None:
        # not silently anonymous: the page asked as someone, and would otherwise be told
        # that private things do not exist
        raise Unauthenticated("your session has ended (expired or signed out): sign in again")
    return viewer


async def page_viewer(request: Request) -> tuple[Viewer | None, bool]:
    """The viewer of a page load (a GET: no CSRF check needed), and whether a session
    cookie was sent that is no longer valid (the page then clears it)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None, False
    viewer = await sessions.session_viewer(request.state.db, token)
    return viewer, viewer is None
