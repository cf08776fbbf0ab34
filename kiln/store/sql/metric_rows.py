"""Metric points turned into rows for ``metrics``, checked on the way.

A batch of a thousand points is read field by field in C (``attrgetter``,
``zip``, set and min/max built-ins) rather than point by point in Python: the
same pass that checks the common case yields the rows to insert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

from kiln.entities import Metric
from kiln.validation import MAX_BATCH_METRICS

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# A plain row, in the order of ``statements.PLAIN_ROW``.
_PLAIN_FIELDS = attrgetter("key", "step", "timestamp", "value")
_EXTRA_FIELDS = attrgetter("model_id", "dataset_name", "dataset_digest")
_STR_ONLY = {str}
_FLOAT_ONLY = {float}
_INT_ONLY = {int}
_DICT_ONLY = {dict}
_FOUR = {4}
_JSON_FIELDS = frozenset(("key", "value", "timestamp", "step"))
_JSON_ROW = itemgetter("key", "step", "timestamp", "value")


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for one run's batch insert and the metric keys they touch.

    ``plain`` rows are ``(key, step, timestamp, value)`` with no NaN, model
    or dataset; the others are in ``statements.FULL_POINT`` order.
    """

    rows: list[tuple[Any, ...]]
    keys: frozenset[str]
    plain: bool


def stored_value(value: float) -> tuple[float, bool]:
    """The (value, is_nan) pair stored for a point's value.

    Values that passed validation but are not plain floats (ints, numpy
    scalars) become floats here, so the driver never sees a numpy bool.
    """
    if type(value) is not float:
        value = float(value)
    if math.isnan(value):
        return 0.0, True
    return value, False


def plain_rows(points: Sequence[Metric], known_keys: set[str]) -> Rows | None:
    """The batch's rows when every point is in the common, valid shape.

    That is: at most MAX_BATCH_METRICS points, each with a key validated
    before (in ``known_keys``), a float value that is not NaN, integer
    timestamp and step in range, and no model or dataset. Anything else
    gives None, and the batch goes through the full validation.
    """
    if not points or len(points) > MAX_BATCH_METRICS:
        return None
    rows = list(map(_PLAIN_FIELDS, points))
    keys = _checked_keys(rows, known_keys)
    if keys is None or {*map(_EXTRA_FIELDS, points)} != {(None, None, None)}:
        return None
    return Rows(rows, keys, plain=True)


def plain_rows_from_json(points: object, known_keys: set[str]) -> Rows | None:
    """:func:`plain_rows` for points as a request's JSON objects.

    Only objects with exactly the fields ``key``, ``value``, ``timestamp``
    and ``step`` qualify (a client may leave out a step of 0, which then
    takes the long way), so the rows come straight from the parsed body.
    """
    if (
        type(points) is not list
        or not points
        or len(points) > MAX_BATCH_METRICS
        or {*map(type, points)} != _DICT_ONLY
        or {*map(len, points)} != _FOUR
        or not all(map(_JSON_FIELDS.issuperset, points))
    ):
        return None
    rows = list(map(_JSON_ROW, points))
    keys = _checked_keys(rows, known_keys)
    return None if keys is None else Rows(rows, keys, plain=True)


def _checked_keys(
    rows: list[tuple[Any, ...]], known_keys: set[str]
) -> frozenset[str] | None:
    # The metric keys of (key, step, timestamp, value) rows when each row
    # passes the quick check, else None.
    keys, steps, timestamps, values = zip(*rows, strict=True)
    if not (
        {*map(type, keys)} == _STR_ONLY
        and known_keys.issuperset(keys)
        and {*map(type, values)} == _FLOAT_ONLY
        and {*map(type, timestamps)} == _INT_ONLY
        and {*map(type, steps)} == _INT_ONLY
        and min(timestamps) >= 0
        and max(timestamps) <= _INT64_MAX
        and min(steps) >= _INT64_MIN
        and max(steps) <= _INT64_MAX
    ):
        return None
    # A NaN makes the sum NaN; so do opposite infinities, which the second
    # look then clears.
    if math.isnan(sum(values)) and any(map(math.isnan, values)):
        return None
    return frozenset(keys)


def full_rows(points: Sequence[Metric]) -> Rows:
    """Rows in FULL_POINT order for validated points of any shape."""
    rows = [
        (
            p.key,
            p.step,
            p.timestamp,
            *stored_value(p.value),
            p.model_id,
            p.dataset_name,
            p.dataset_digest,
        )
        for p in points
    ]
    return Rows(rows, frozenset(p.key for p in points), plain=False)
