"""The web app's HTML: one shell page per URL, with the status code decided here.

The app renders in the browser, but whether a URL names something is decided on the
server, with the domain layer's own lookups: anything the viewer may not read is
"absent", exactly as the API treats it. Unknown paths and unreadable things therefore
get the same bytes and the same 404, so a URL reveals nothing about what exists.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from server.domain import artifacts, projects, runs
from server.domain.access import Viewer
from server.errors import BadUserInput
from server.web.assets import manifest
from server.web.auth import SESSION_COOKIE, page_viewer

# No inline script or style, nothing from another origin. blob: and data: images are the
# graph's PNG/SVG exports and the empty favicon.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

HTML_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    # pages depend on who is signed in: never from a cache
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _shell(title: str, bundle: str, root_id: str, status: int) -> str:
    assets = manifest()
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{assets.url(bundle + ".css")}">'
        f'<script type="module" src="{assets.url(bundle + ".js")}"></script>'
        f'</head><body data-status="{status}"><div id="{root_id}"></div></body></html>\n'
    )


def html_page(status: int = 200, *, clear_session: bool = False) -> Response:
    title = "Lineage" if status == 200 else "Not found · Lineage"
    response = HTMLResponse(
        _shell(title, "app", "app", status), status_code=status, headers=HTML_HEADERS
    )
    if clear_session:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def graphiql_page(request: Request) -> Response:
    return HTMLResponse(
        _shell("GraphiQL · Lineage", "graphiql", "graphiql", 200), headers=HTML_HEADERS
    )


Lookup = Callable[[Request, Viewer | None], Awaitable[object | None]]


def _page(lookup: Lookup) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        viewer, ended = await page_viewer(request)
        try:
            found = await lookup(request, viewer)
        except BadUserInput:
            found = None  # a name no one could have: nothing is there
        return html_page(200 if found is not None else 404, clear_session=ended)

    return endpoint


async def _project(request: Request, viewer: Viewer | None) -> object | None:
    p = request.path_params
    return await projects.find_project(request.state.db, viewer, p["entity"], p["project"])


async def _run(request: Request, viewer: Viewer | None) -> object | None:
    p = request.path_params
    path = f"{p['entity']}/{p['project']}/{p['run_id']}"
    return await runs.find_run(request.state.db, viewer, path)


async def _artifact(request: Request, viewer: Viewer | None) -> object | None:
    p = request.path_params
    if "/" in p["version"] or ":" in p["version"]:
        return None
    path = f"{p['entity']}/{p['project']}/{p['name']}:{p['version']}"
    return await artifacts.find_artifact(request.state.db, viewer, path)


async def _nothing(request: Request, viewer: Viewer | None) -> object | None:
    return True


home_page = _page(_nothing)
project_page = _page(_project)
run_page = _page(_run)
artifact_page = _page(_artifact)


async def not_found_page(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return PlainTextResponse("Not Found", status_code=404)
    _, ended = await page_viewer(request)
    return html_page(404, clear_session=ended)
