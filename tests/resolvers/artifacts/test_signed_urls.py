"""The folder store's signed /files URLs as the service hands them out: tampering and expiry.

(moto accepts tampered and expired presigned URLs, so S3 signing is not testable here.)
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from server.settings import Settings
from server.storage.base import blob_key
from tests.fixtures.artifacts import (
    COMMIT,
    artifact_path,
    content,
    entries,
    get,
    log_and_commit,
    log_artifact,
    new_run,
    open_blob_store,
    put,
    sha,
)
from tests.fixtures.service import Api, running_api


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def flip_one(text: str, at: int = -1) -> str:
    return text[:at] + ("0" if text[at] != "0" else "1") + (text[at + 1 :] if at != -1 else "")


def param(url: str, name: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))[name]


async def download_url(api: Api, key: str, run: str, name: str) -> str:
    found = await entries(api, key, artifact_path(run, name, "v0"))
    return str(found["edges"][0]["node"]["downloadUrl"])


async def test_tampered_download_urls_are_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    mine, other = content("mine"), content("other")
    await log_and_commit(api, user.key, run, "a", {"f": mine})
    await log_and_commit(api, user.key, run, "b", {"f": other})
    url = await download_url(api, user.key, run, "a")
    assert url.startswith("http://testserver/files/blobs/")
    assert (await get(url, api)).content == mine

    sig = param(url, "sig")
    forged = [
        with_query(url, sig=flip_one(sig)),
        with_query(url, sig=flip_one(sig, 0)),
        with_query(url, sig=sig.upper()),
        with_query(url, sig=""),
        with_query(url, exp=str(int(param(url, "exp")) + 86400)),  # a longer life
        with_query(url, filename="evil.html"),
        url.replace(blob_key(sha(mine)), blob_key(sha(other))),  # another blob, same signature
    ]
    for bad in forged:
        response = await get(bad, api)
        assert response.status_code == 403, bad
        assert response.content != mine
        assert response.content != other
    assert (await get(url, api)).content == mine  # the genuine one still works


async def test_tampered_upload_urls_are_refused(api: Api, make_user: Any) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    data, evil = content("data"), content("evil")
    payload = await log_artifact(api, user.key, run, "ds", {"f": data})
    url = payload["uploads"][0]["url"]
    sig = param(url, "sig")
    forged = [
        (with_query(url, sig=flip_one(sig)), data),
        (with_query(url, size=str(len(evil)), sha256=sha(evil)), evil),  # other declared content
        (with_query(url, exp=str(int(param(url, "exp")) + 86400)), data),
        (url.replace(f"/staging/{urlsplit(url).path.split('/')[3]}/", "/staging/999999999/"), data),
    ]
    for bad, body in forged:
        response = await put(bad, {}, body, api)
        assert response.status_code == 403, bad
    # nothing arrived: the commit is refused, and the genuine URL still works
    assert (
        await api.error(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key) == "BAD_USER_INPUT"
    )
    assert (await put(url, {}, data, api)).status_code == 200
    committed = await api.ok(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
    assert committed["commitArtifact"]["version"] == "v0"


async def test_expired_urls_are_refused(api: Api, make_user: Any, settings: Settings) -> None:
    user = await make_user()
    run = await new_run(api, user.key)
    data = content()
    await log_and_commit(api, user.key, run, "ds", {"f": data})
    # URLs signed with the server's secret for this blob, but already past their expiry
    expired_store = await open_blob_store(settings, url_ttl_seconds=-1)
    try:
        expired = await expired_store.download_url(sha(data))
    finally:
        await expired_store.close()
    response = await get(expired, api)
    assert (response.status_code, response.text) == (403, "URL expired")
    response = await get(with_query(expired, exp=str(int(param(expired, "exp")) + 3600)), api)
    assert response.status_code == 403  # and it cannot be revived by editing exp


async def test_a_server_with_expired_url_lifetime_hands_out_dead_urls(
    api: Api, settings: Settings, make_user: Any
) -> None:
    short = dataclasses.replace(settings, signed_url_ttl_seconds=-1)
    user = await make_user()
    run = await new_run(api, user.key)
    await log_and_commit(api, user.key, run, "held", {"f": content()})
    async with running_api(short) as short_api:
        data = content()
        payload = await log_artifact(short_api, user.key, run, "ds", {"f": data})
        response = await put(payload["uploads"][0]["url"], {}, data, short_api)
        assert (response.status_code, response.text) == (403, "URL expired")
        assert (
            await short_api.error(COMMIT, {"id": payload["artifact"]["id"]}, key=user.key)
            == "BAD_USER_INPUT"
        )
        url = await download_url(short_api, user.key, run, "held")
        response = await get(url, short_api)
        assert (response.status_code, response.text) == (403, "URL expired")
