"""Global ids are base64url("Kind:123") without padding, and decode back."""

from __future__ import annotations

import base64

import pytest

from server.domain import ids
from server.domain.ids import KINDS, decode_id, encode_id, encode_ids


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ids_are_unpadded_base64url_of_kind_and_row_id(kind: str) -> None:
    # every length of number, so every padding, and ids whose base64 holds "-" and "_"
    for row_id in [0, 1, 12, 123, 1234, 2**31 - 1, 2**53, 10**18 - 1, *range(990, 1100)]:
        expected = base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode().rstrip("=")
        assert encode_id(kind, row_id) == expected
        assert decode_id(encode_id(kind, row_id)) == (kind, row_id)


def test_ids_made_before_are_the_same_ids() -> None:
    # a lineage answer finds the ids it made before; they are what encoding makes
    row_ids = [7, 3, 7, 2**40, 0, 3]
    first = encode_ids("Run", row_ids)
    assert first == [
        base64.urlsafe_b64encode(f"Run:{i}".encode()).decode().rstrip("=") for i in row_ids
    ]
    assert encode_ids("Run", row_ids) == first == [encode_id("Run", i) for i in row_ids]
    # the same row id of another kind is another id
    assert encode_ids("Artifact", row_ids) != first
    assert [decode_id(g) for g in encode_ids("Artifact", row_ids)] == [
        ("Artifact", i) for i in row_ids
    ]


def test_the_ids_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "ENCODED_KEPT", 50)
    for start in range(0, 1000, 30):
        some = list(range(start, start + 30))
        assert [decode_id(g) for g in encode_ids("Sweep", some)] == [("Sweep", i) for i in some]
        assert decode_id(encode_id("Sweep", start + 5000)) == ("Sweep", start + 5000)
        assert len(ids._ENCODED["Sweep"]) <= 50
