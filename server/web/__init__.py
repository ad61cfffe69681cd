"""The web app: its pages, assets, sign-in and GraphiQL (sources in web/)."""

from __future__ import annotations

from starlette.routing import Route

from server.web.assets import STATIC_PREFIX, static_asset
from server.web.pages import (
    artifact_page,
    home_page,
    not_found_page,
    project_page,
    run_page,
)
from server.web.session_routes import sign_in, sign_out

# Last among the app's routes: the page routes match any path of their shape, and the
# final one answers every other GET with the not-found page.
web_routes = [
    Route(f"{STATIC_PREFIX}/{{name}}", static_asset, methods=["GET"]),
    Route("/-/session", sign_in, methods=["POST"]),
    Route("/-/session", sign_out, methods=["DELETE"]),
    Route("/", home_page, methods=["GET"]),
    Route("/{entity}/{project}", project_page, methods=["GET"]),
    Route("/{entity}/{project}/runs/{run_id}", run_page, methods=["GET"]),
    Route("/{entity}/{project}/runs/{run_id}/lineage", run_page, methods=["GET"]),
    Route("/{entity}/{project}/artifacts/{name}/{version}", artifact_page, methods=["GET"]),
    Route("/{entity}/{project}/artifacts/{name}/{version}/lineage", artifact_page, methods=["GET"]),
    Route("/{path:path}", not_found_page),
]
