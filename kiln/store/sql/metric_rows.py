"""Metric points turned into rows for ``metrics``, checked on the way.

A batch of a thousand points is read field by field in C (``attrgetter``,
``zip``, set and min/max built-ins) rather than point by point in Python: the
same pass that checks the common case yields the rows to insert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from kiln.entities import Metric
from kiln.validation import MAX_BATCH_METRICS

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# A plain row, in the order of ``statements.PLAIN_ROW``.
_PLAIN_FIELDS = attrgetter("key", "step", "timestamp", "value")
_EXTRA_FIELDS = attrgetter("model_id", "dataset_name", "dataset_digest")
_FLOAT_ONLY = {float}
_INT_ONLY = {int}


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
    keys, steps, timestamps, values = zip(*rows, strict=True)
    if not (
        known_keys.issuperset(keys)
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
    if {*map(_EXTRA_FIELDS, points)} != {(None, None, None)}:
        return None
    return Rows(rows, frozenset(keys), plain=True)


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
