"""``PUT``/``GET /files/{key}``: the folder store's answer to S3 presigned URLs.

Mounted by the app whatever the store is; with an S3 store every request is a 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from server.storage.base import attachment_disposition
from server.storage.folder import FolderStore
from server.storage.signing import FileRequestRefused


def _folder_store(request: Request) -> FolderStore | None:
    store = getattr(request.state, "store", None)
    return store if isinstance(store, FolderStore) else None


async def put_file(request: Request) -> Response:
    store = _folder_store(request)
    if store is None:
        return PlainTextResponse("not found", status_code=404)
    key: str = request.path_params["key"]
    try:
        grant = store.authorize("put", key, request.query_params)
        # Refuse an announced oversize body before reading any of it; chunked bodies
        # are cut off while streaming instead.
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > grant.size:
            raise FileRequestRefused(413, f"upload exceeds the declared {grant.size} bytes")
        await store.receive_upload(key, grant.sha256, grant.size, request.stream())
    except FileRequestRefused as refused:
        return PlainTextResponse(refused.message, status_code=refused.status)
    return Response(status_code=200)


async def get_file(request: Request) -> Response:
    store = _folder_store(request)
    if store is None:
        return PlainTextResponse("not found", status_code=404)
    try:
        grant = store.authorize("get", request.path_params["key"], request.query_params)
    except FileRequestRefused as refused:
        return PlainTextResponse(refused.message, status_code=refused.status)
    if not grant.path.is_file():
        return PlainTextResponse("not found", status_code=404)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=0"}
    if grant.filename:
        headers["Content-Disposition"] = attachment_disposition(grant.filename)
    return FileResponse(grant.path, media_type="application/octet-stream", headers=headers)


files_routes: list[Route] = [
    Route("/files/{key:path}", put_file, methods=["PUT"]),
    Route("/files/{key:path}", get_file, methods=["GET"]),
]
