"""decode_request decodes every body as the standard library's JSON decoder does (it tries
orjson first) and refuses nesting past the limit however the brackets are counted."""

from __future__ import annotations

import json
import re

import pytest

from server.http.payload import MAX_JSON_DEPTH, MalformedBody, decode_request
from server.json_numbers import has_long_number

VALUES = [
    b"1e400",  # inf
    b"NaN",
    b'"\\ud800"',  # a lone surrogate escape
    b"123456789012345678901234567890",  # past 64 bits: exact
    b"-9223372036854775809",
    b"18446744073709551615",
    b"-0.0",
    b"0.1",
    b"5e-324",
    b'"\\u0000"',
    b'{"a": 1, "a": 2}',
    b"[1, [2, [3]]]",
]


@pytest.mark.parametrize("value", VALUES)
def test_variables_decode_as_the_standard_json_decoder_does(value: bytes) -> None:
    body = b'{"query": "{ __typename }", "variables": {"v": ' + value + b"}}"
    expected = json.loads(body)["variables"]
    decoded = decode_request(body).variables
    assert repr(decoded) == repr(expected)
    assert type(decoded["v"]) is type(expected["v"])  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"query": "{ __typename }"}',  # a UTF-8 byte order mark
        '{"query": "{ __typename }"}'.encode("utf-16"),
    ],
)
def test_bodies_orjson_refuses_decode_as_before(body: bytes) -> None:
    assert decode_request(body).query == "{ __typename }"


@pytest.mark.parametrize("body", [b'{"query": "\xff"}', b'{"query": ', b"null", b"[]"])
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        decode_request(body)


def _nested(levels: int, pad: int = 0) -> bytes:
    """A request whose variables nest ``levels`` lists (the request itself is level 1)."""
    inner = b"[" * levels + b"1" + b"]" * levels
    return b'{"query": "{ __typename }", "variables": {"v": ' + inner + b"}" + b" " * pad + b"}"


def test_nesting_is_refused_exactly_past_the_limit() -> None:
    # request (1) > variables (2) > v's lists (3..) > the number: depth = levels + 3
    decode_request(_nested(MAX_JSON_DEPTH - 3))
    with pytest.raises(MalformedBody, match="nested deeper"):
        decode_request(_nested(MAX_JSON_DEPTH - 2))
    with pytest.raises(MalformedBody, match="nested deeper"):
        decode_request(_nested(5000))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"123456789012345",  # 15 digits
        b"1234567890123456",  # 16
        b'{"a": 12345678.901234567}',  # runs of 8 and 9
        b'{"a": 123456789012345678901}',
        b"x" * 300 + b"9" * 16 + b"x",
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660" * 2,  # not ASCII
        "१२३४५६७८९०१२३४५६७".encode(),
    ],
)
def test_long_numbers_are_found_as_the_regular_expression_finds_them(body: bytes | str) -> None:
    """has_long_number decides which decoder keeps a body's big integers exact: ASCII
    digits only, sixteen in a row."""
    raw = body.encode() if isinstance(body, str) else body
    assert has_long_number(raw) == bool(re.search(rb"\d{16}", raw))
