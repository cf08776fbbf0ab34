"""Reading a request message field by field, as MLflow's server parses one.

A message is a JSON object (POST, PATCH, DELETE) or the query parameters of
a GET. Either spelling of a field name is accepted, ``experiment_id`` or
``experimentId``, but not both at once. int64 values may arrive as numbers
or strings (older clients send strings; query parameters are always strings).
Every problem is an :class:`~kiln.errors.InvalidParameterValue` naming the
field, with its path inside nested messages (``metrics[2].timestamp``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Literal, TypeVar, overload

from kiln.errors import InvalidParameterValue
from kiln.wire.encoding import decode_double

__all__ = ["Message", "camel_case"]

T = TypeVar("T")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INT_RE = re.compile(r"^-?[0-9]+$")
_SNAKE_PART = re.compile(r"_([a-z0-9])")


# Field names come from Kiln's own code, so the cache stays small; a log-batch
# request asks for every field name of every one of its 1000 metrics.
@lru_cache(maxsize=1024)
def camel_case(name: str) -> str:
    """``experiment_id`` → ``experimentId``: protobuf's JSON name of a field."""
    return _SNAKE_PART.sub(lambda m: m.group(1).upper(), name)


class Message:
    """Typed access to the fields of one request message."""

    __slots__ = ("_fields", "_path")

    def __init__(self, fields: Mapping[str, object], path: str = "") -> None:
        self._fields = fields
        self._path = path

    @classmethod
    def from_query(cls, pairs: Iterable[tuple[str, str]]) -> Message:
        """Build a message from query parameters; a repeated key is a list."""
        fields: dict[str, object] = {}
        for key, value in pairs:
            previous = fields.get(key)
            if previous is None:
                fields[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                fields[key] = [previous, value]
        return cls(fields)

    def _name(self, field: str) -> str:
        return f"{self._path}.{field}" if self._path else field

    def raw(self, field: str) -> object | None:
        """The value under either spelling of ``field``, or None when absent."""
        camel = camel_case(field)
        value = self._fields.get(field)
        if camel != field and camel in self._fields:
            if field in self._fields:
                raise InvalidParameterValue(
                    f"The parameter {self._name(field)!r} was sent twice, as "
                    f"{field!r} and {camel!r}; send one."
                )
            value = self._fields[camel]
        return value

    def has(self, field: str) -> bool:
        """Whether the field was sent with a value (null counts as absent)."""
        return self.raw(field) is not None

    def _missing(self, field: str) -> InvalidParameterValue:
        return InvalidParameterValue(
            f"Missing value for required parameter {self._name(field)!r}."
        )

    def _invalid(
        self, field: str, value: object, expected: str
    ) -> InvalidParameterValue:
        return InvalidParameterValue(
            f"Invalid value {value!r} for parameter {self._name(field)!r}; "
            f"expected {expected}."
        )

    def _scalar(
        self,
        field: str,
        required: bool,
        convert: Callable[[object], T | None],
        expected: str,
    ) -> T | None:
        value = self.raw(field)
        # A GET may repeat a query key; a single value is still a scalar.
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if value is None or (value == "" and required):
            if required:
                raise self._missing(field)
            return None
        converted = convert(value)
        if converted is None:
            raise self._invalid(field, value, expected)
        return converted

    @overload
    def string(self, field: str, *, required: Literal[True]) -> str: ...
    @overload
    def string(self, field: str, *, required: bool = False) -> str | None: ...
    def string(self, field: str, *, required: bool = False) -> str | None:
        """A string field; a required one must also be non-empty."""
        return self._scalar(field, required, _to_string, "a string")

    @overload
    def int64(self, field: str, *, required: Literal[True]) -> int: ...
    @overload
    def int64(self, field: str, *, required: bool = False) -> int | None: ...
    def int64(self, field: str, *, required: bool = False) -> int | None:
        """A 64-bit integer field, sent as a JSON number or a string of digits."""
        return self._scalar(field, required, _to_int64, "a 64-bit integer")

    @overload
    def double(self, field: str, *, required: Literal[True]) -> float: ...
    @overload
    def double(self, field: str, *, required: bool = False) -> float | None: ...
    def double(self, field: str, *, required: bool = False) -> float | None:
        """A double field: a number, or "NaN", "Infinity" or "-Infinity"."""
        return self._scalar(field, required, decode_double, "a number")

    @overload
    def boolean(self, field: str, *, required: Literal[True]) -> bool: ...
    @overload
    def boolean(self, field: str, *, required: bool = False) -> bool | None: ...
    def boolean(self, field: str, *, required: bool = False) -> bool | None:
        """A bool field: JSON true/false, or "true"/"false" in a query string."""
        return self._scalar(field, required, _to_bool, "true or false")

    @overload
    def enum(
        self, field: str, members: Mapping[str, int], *, required: Literal[True]
    ) -> str: ...
    @overload
    def enum(
        self, field: str, members: Mapping[str, int], *, required: bool = False
    ) -> str | None: ...
    def enum(
        self, field: str, members: Mapping[str, int], *, required: bool = False
    ) -> str | None:
        """An enum field, sent by name or number; returns the member's name."""
        by_number = {number: name for name, number in members.items()}

        def convert(value: object) -> str | None:
            if isinstance(value, str):
                if value in members:
                    return value
                value = _to_int64(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return by_number.get(value)
            return None

        expected = "one of " + ", ".join(members)
        return self._scalar(field, required, convert, expected)

    def strings(self, field: str) -> list[str]:
        """A repeated string field; absent means empty."""
        return [
            self._item(field, i, item, _to_string, "a string")
            for i, item in enumerate(self._list(field))
        ]

    def messages(self, field: str) -> list[Message]:
        """A repeated message field; each item is read as a Message."""
        result = []
        for i, item in enumerate(self._list(field)):
            if not isinstance(item, Mapping):
                raise self._invalid(f"{field}[{i}]", item, "a JSON object")
            result.append(Message(item, self._name(f"{field}[{i}]")))
        return result

    @overload
    def message(self, field: str, *, required: Literal[True]) -> Message: ...
    @overload
    def message(self, field: str, *, required: bool = False) -> Message | None: ...
    def message(self, field: str, *, required: bool = False) -> Message | None:
        """A nested message field, or None when absent and not required."""
        value = self.raw(field)
        if value is None:
            if required:
                raise self._missing(field)
            return None
        if not isinstance(value, Mapping):
            raise self._invalid(field, value, "a JSON object")
        return Message(value, self._name(field))

    def _list(self, field: str) -> list[object]:
        value = self.raw(field)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        # A query string carries a one-item repeated field as a plain value.
        if isinstance(value, str):
            return [value]
        raise self._invalid(field, value, "a list")

    def _item(
        self,
        field: str,
        index: int,
        value: object,
        convert: Callable[[object], T | None],
        expected: str,
    ) -> T:
        converted = convert(value)
        if converted is None:
            raise self._invalid(f"{field}[{index}]", value, expected)
        return converted


def _to_string(value: object) -> str | None:
    if isinstance(value, str):
        return value
    # Hand-written requests often send ids as numbers; read them as their digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _to_int64(value: object) -> int | None:
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INT_RE.match(value.strip()):
        number = int(value.strip())
    if number is None or not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return number


def _to_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    return None
