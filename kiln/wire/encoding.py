"""JSON bodies as MLflow's protocol writes and reads them.

Responses follow protobuf's JSON mapping: a double that is not finite travels
as the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``. orjson would write
those values as ``null``, so :func:`dumps` replaces them first. The stock
``mlflow`` client decodes responses with protobuf's ``json_format``, which
turns the three strings back into floats, so Kiln sends ±inf as stored. (An
MLflow server instead clamps ±inf to ±1.7976931348623157e308 when it stores a
metric; a Kiln client reads that clamped value as the finite number it is.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

from kiln.errors import InvalidParameterValue

__all__ = [
    "JSONObject",
    "compact",
    "decode_double",
    "dumps",
    "encode_double",
    "loads",
    "parse_body",
]

JSONObject = dict[str, Any]

_NON_FINITE_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_double(value: float) -> float | str:
    """Return ``value`` as protobuf's JSON mapping writes a double."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_double(value: object) -> float | None:
    """Read a JSON double (number or one of the three special strings), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        if value in _NON_FINITE_NAMES:
            return _NON_FINITE_NAMES[value]
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _replace_non_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return encode_double(value)
    if isinstance(value, dict):
        return {k: _replace_non_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_non_finite(v) for v in value]
    return value


def dumps(payload: Any) -> bytes:
    """Encode ``payload`` as compact JSON, writing NaN and ±inf as strings."""
    body = orjson.dumps(payload)
    # orjson writes a non-finite float as null. Entity converters already
    # encode their doubles, and they omit None, so "null" is rare; only then
    # is the payload walked and encoded again.
    if b"null" in body:
        body = orjson.dumps(_replace_non_finite(payload))
    return body


def loads(body: bytes | str) -> Any:
    """Decode JSON; bare ``NaN``/``Infinity`` literals (as Python's json module
    writes them) are accepted too. Raises InvalidParameterValue on bad JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses NaN and Infinity literals; the standard library takes them.
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterValue(
            f"The request body is not valid JSON ({exc}); expected a JSON object."
        ) from exc


def parse_body(body: bytes | str) -> JSONObject:
    """Decode a request body into the message's fields.

    An empty body is an empty message. A body that is a JSON string holding
    JSON is decoded twice, because some clients encode their payload twice.
    """
    if not body or not body.strip():
        return {}
    decoded = loads(body)
    if isinstance(decoded, str):
        decoded = loads(decoded)
    if not isinstance(decoded, dict):
        raise InvalidParameterValue(
            f"The request body must be a JSON object, got {type(decoded).__name__!r}."
        )
    return decoded


def compact(fields: Mapping[str, Any]) -> JSONObject:
    """Drop unset fields: protobuf's JSON leaves out None and empty lists."""
    return {k: v for k, v in fields.items() if v is not None and v != []}
