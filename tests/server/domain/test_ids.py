"""Global ids are base64url("Kind:123") without padding, and decode back."""

from __future__ import annotations

import base64

import pytest

from server.domain.ids import KINDS, decode_id, encode_id


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ids_are_unpadded_base64url_of_kind_and_row_id(kind: str) -> None:
    # every length of number, so every padding, and ids whose base64 holds "-" and "_"
    for row_id in [0, 1, 12, 123, 1234, 2**31 - 1, 2**53, 10**18 - 1, *range(990, 1100)]:
        expected = base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode().rstrip("=")
        assert encode_id(kind, row_id) == expected
        assert decode_id(encode_id(kind, row_id)) == (kind, row_id)
