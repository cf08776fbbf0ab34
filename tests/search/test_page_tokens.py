"""Page tokens: opaque, round-trip, and refused cleanly when forged."""

from __future__ import annotations

import base64
import json

import pytest

from kiln.errors import InvalidParameterValue
from kiln.search import decode_page_token, encode_page_token


@pytest.mark.parametrize("offset", [0, 1, 1000, 49_999, 2**62])
def test_tokens_round_trip(offset: int) -> None:
    token = encode_page_token(offset)
    assert token.isascii() and "+" not in token and "/" not in token
    assert decode_page_token(token) == offset


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_means_the_first_page(token: str | None) -> None:
    assert decode_page_token(token) == 0


@pytest.mark.parametrize(
    "token",
    [
        "eyJvZmZzZXQiOiAxfQ==",  # as MLflow's stores write it
        "eyJvZmZzZXQiOiAxfQ",  # padding dropped by a URL
        base64.b64encode(b'{"offset":1}').decode(),
    ],
)
def test_tokens_from_mlflow_stores_are_read(token: str) -> None:
    assert decode_page_token(token) == 1


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "junk",
        "!!!!",
        "eyJvZmZzZXQiOiAxfQ==!!",
        "é",
        _b64({"offset": -1}),
        _b64({"offset": 1.5}),
        _b64({"offset": "1"}),
        _b64({"offset": True}),
        _b64({"offset": None}),
        _b64({"offset": 2**63}),
        _b64({"offset": 1, "extra": 2}),
        _b64({"start": 1}),
        _b64([1]),
        _b64(1),
        base64.b64encode(b"\xff\xfe").decode(),
        "A" * 10_000,
    ],
)
def test_forged_tokens_are_refused_naming_the_token(token: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        decode_page_token(token)
    assert "Invalid page token" in info.value.message
    assert repr(token[:20])[:-1] in info.value.message


@pytest.mark.parametrize("offset", [-1, 1.0, True, "3", 2**63])
def test_bad_offsets_cannot_be_encoded(offset: object) -> None:
    with pytest.raises(InvalidParameterValue, match="non-negative integer"):
        encode_page_token(offset)  # type: ignore[arg-type]
