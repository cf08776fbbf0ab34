from __future__ import annotations

import math

import pytest

from kiln.errors import InvalidParameterValue
from kiln.wire import compact, decode_double, dumps, encode_double, loads, parse_body


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (1.5, 1.5),
        (0, 0.0),
        (1.7976931348623157e308, 1.7976931348623157e308),
    ],
)
def test_encode_double_follows_protobuf_json(value: float, encoded: object) -> None:
    assert encode_double(value) == encoded


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("NaN", math.nan), ("Infinity", math.inf), ("-Infinity", -math.inf),
     (2, 2.0), ("0.25", 0.25), (1e308, 1e308)],
)  # fmt: skip
def test_decode_double_reads_numbers_and_special_strings(
    raw: object, expected: float
) -> None:
    decoded = decode_double(raw)
    assert decoded is not None
    if math.isnan(expected):
        assert math.isnan(decoded)
    else:
        assert decoded == expected


@pytest.mark.parametrize("raw", [True, "abc", None, [], 10**400])
def test_decode_double_refuses_non_numbers(raw: object) -> None:
    assert decode_double(raw) is None


def test_dumps_writes_non_finite_floats_as_strings_anywhere() -> None:
    payload = {"a": [math.nan, {"b": math.inf}], "c": -math.inf, "d": 1.0}
    assert loads(dumps(payload)) == {
        "a": ["NaN", {"b": "Infinity"}],
        "c": "-Infinity",
        "d": 1.0,
    }


def test_dumps_keeps_explicit_null() -> None:
    assert dumps({"a": None, "b": "null"}) == b'{"a":null,"b":"null"}'


def test_loads_accepts_bare_nan_literals_from_python_json() -> None:
    decoded = loads(b'{"value": NaN, "other": Infinity}')
    assert math.isnan(decoded["value"])
    assert decoded["other"] == math.inf


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", {}),
        (b"  ", {}),
        (b'{"name": "x"}', {"name": "x"}),
        (b'"{\\"name\\": \\"x\\"}"', {"name": "x"}),
    ],
)
def test_parse_body_reads_empty_plain_and_double_encoded_bodies(
    body: bytes, expected: dict[str, object]
) -> None:
    assert parse_body(body) == expected


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"3"])
def test_parse_body_refuses_what_is_not_an_object(body: bytes) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_body(body)


def test_compact_drops_none_and_empty_lists_but_keeps_falsy_values() -> None:
    fields = {"a": None, "b": [], "c": 0, "d": "", "e": False, "f": {}}
    assert compact(fields) == {"c": 0, "d": "", "e": False, "f": {}}
