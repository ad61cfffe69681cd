"""Validation of the JSON documents users store: run and sweep configs, run summaries,
artifact metadata. Each must be a JSON object that jsonb can hold (no NUL character, no
NaN or infinity, valid Unicode) and at most 1 MiB encoded."""

from __future__ import annotations

import json
import math
from typing import Any

from server.errors import BadUserInput

MAX_JSON_BYTES = 1 << 20


def check_json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadUserInput(f"{what} must be a JSON object, got {type(value).__name__}")
    _check_storable(value, what)
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise BadUserInput(f"{what} is larger than 1 MiB encoded; store big data as an artifact")
    return value


def _check_storable(value: Any, what: str) -> None:
    """Refuse what jsonb cannot hold: NUL characters, NaN and infinities."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise BadUserInput(f"{what} contains a NUL character, which Postgres cannot store")
        elif isinstance(item, float) and not math.isfinite(item):
            raise BadUserInput(f"{what} contains {item}: JSON numbers must be finite")


def check_metadata(metadata: Any) -> dict[str, Any]:
    """An artifact version's metadata: absent is {}; the cap counts UTF-8 bytes."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise BadUserInput(f"metadata must be a JSON object, got {type(metadata).__name__}")
    check_json_object(metadata, "metadata")
    try:
        encoded = json.dumps(metadata, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadUserInput("metadata is not valid Unicode (unpaired surrogate)") from None
    if len(encoded) > MAX_JSON_BYTES:
        raise BadUserInput("metadata is larger than 1 MiB encoded; log big data as a file")
    return metadata
