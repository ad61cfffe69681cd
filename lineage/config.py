"""Where the client connects and with which key.

Explicit arguments win over the environment (``LINEAGE_BASE_URL``, ``LINEAGE_API_KEY``,
``LINEAGE_ENTITY``), the environment over the file ``lineage login`` writes. That file
keeps one key per server URL, so a key stored for one server is never sent to another.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    api_key: str | None
    entity: str | None


def config_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    folder = env.get("LINEAGE_CONFIG_DIR") or platformdirs.user_config_dir("lineage")
    return Path(folder) / "settings.json"


def _stored(env: Mapping[str, str]) -> dict[str, object]:
    try:
        data = json.loads(config_file(env).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _normalise(url: str) -> str:
    return url.rstrip("/")


def resolve_settings(
    base_url: str | None = None,
    api_key: str | None = None,
    entity: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientSettings:
    env = os.environ if env is None else env
    stored = _stored(env)
    url = base_url or env.get("LINEAGE_BASE_URL") or str(stored.get("base_url") or "")
    url = _normalise(url or DEFAULT_BASE_URL)
    keys = stored.get("keys")
    stored_key = keys.get(url) if isinstance(keys, dict) else None
    key = api_key or env.get("LINEAGE_API_KEY") or (str(stored_key) if stored_key else None)
    return ClientSettings(url, key, entity or env.get("LINEAGE_ENTITY") or None)


def store_key(base_url: str, api_key: str, env: Mapping[str, str] | None = None) -> Path:
    """Remember the key for this server (and make it the default server); file mode 0600."""
    env = os.environ if env is None else env
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = _stored(env)
    keys = data.get("keys")
    keys = dict(keys) if isinstance(keys, dict) else {}
    keys[_normalise(base_url)] = api_key
    data.update(base_url=_normalise(base_url), keys=keys)
    # mkstemp creates the file 0600, so the key is never readable by others, not even
    # for a moment; the rename replaces the old file in one step
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
