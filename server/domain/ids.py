"""Opaque global ids: base64url("Kind:123"). Stable across renames (they hold row ids)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

KINDS = frozenset({"User", "Entity", "Project", "Run", "Sweep", "ArtifactCollection", "Artifact"})


_URLSAFE = bytes.maketrans(b"+/", b"-_")
# "Kind:%d" as bytes: formatting the id into bytes skips building and encoding a str
_FORMATS = {kind: f"{kind}:%d".encode() for kind in KINDS}


def encode_id(kind: str, row_id: int, _b64: Callable[..., bytes] = binascii.b2a_base64) -> str:
    # base64.urlsafe_b64encode without its wrapper calls: a page of 50 runs with 10
    # outputs each makes 550 of these (~0.3 us each, half of the plain spelling)
    return _b64(_FORMATS[kind] % row_id, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def decode_id(global_id: str) -> tuple[str, int] | None:
    """(kind, row id), or None for anything that is not one of our ids."""
    if not isinstance(global_id, str) or len(global_id) > 64:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, sep, number = raw.partition(":")
    if not sep or kind not in KINDS or not number.isdigit() or len(number) > 18:
        return None
    return kind, int(number)


def decode_id_of(global_id: str, kind: str) -> int | None:
    decoded = decode_id(global_id)
    if decoded is None or decoded[0] != kind:
        return None
    return decoded[1]
