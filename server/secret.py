"""The HMAC secret that signs the folder store's /files URLs.

LINEAGE_SECRET when set (several replicas must share it), else a random secret kept in
the data dir, made once with owner-only permissions, so URLs survive restarts.
"""

from __future__ import annotations

import os
import secrets

from server.settings import Settings


def signing_secret(settings: Settings) -> bytes:
    if settings.secret:
        return settings.secret.encode()
    path = settings.data_dir / "secret"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
    return path.read_bytes().strip()
