"""Reading metric histories: whole, paged, sampled, or straight to JSON.

A long history holds 100,000 points or more, so the reads run precompiled
SQL on the DBAPI cursor and build their results with as little Python per
row as possible: points stored straight into their slots, JSON objects as
dict displays, each list in one comprehension.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, null, or_, select
from sqlalchemy.engine import Dialect

from kiln.entities import Metric
from kiln.errors import InvalidParameterValue
from kiln.store.base import (
    METRIC_HISTORY_BULK_MAX_RESULTS,
    METRIC_HISTORY_BULK_MAX_RUNS,
)
from kiln.store.sql.schema import metrics, run_keys
from kiln.store.sql.statements import Params, compile_sql
from kiln.validation import validate_key, validate_run_id
from kiln.wire.encoding import JSONObject, encode_double

_NAN = float("nan")

_POINT_COLUMNS = (
    metrics.c.step,
    metrics.c.timestamp,
    metrics.c.value,
    metrics.c.is_nan,
    metrics.c.model_id,
    metrics.c.dataset_name,
    metrics.c.dataset_digest,
)
# The primary key's order after (run_key, key), so the index returns rows
# already sorted; NaN (stored as 0) ties with 0 only at an equal timestamp.
_POINT_ORDER = (
    metrics.c.step,
    metrics.c.timestamp,
    metrics.c.value,
    metrics.c.is_nan,
)

# LIMIT for "every point": SQLite needs some LIMIT before OFFSET.
NO_LIMIT = 2**62

_FETCH_BLOCK = 10_000

_RUN_KEY = (
    select(run_keys.c.run_key)
    .where(run_keys.c.run_id == bindparam("run_id"))
    .scalar_subquery()
)
_OF_RUN_AND_KEY = (
    metrics.c.run_key == _RUN_KEY,
    metrics.c.key == bindparam("key"),
)
_IN_STEPS = (
    metrics.c.step >= bindparam("start_step", type_=metrics.c.step.type),
    metrics.c.step <= bindparam("end_step", type_=metrics.c.step.type),
)
_HISTORY = (
    select(*_POINT_COLUMNS)
    .where(*_OF_RUN_AND_KEY)
    .order_by(*_POINT_ORDER)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_HISTORY_IN_STEPS = _HISTORY.where(*_IN_STEPS)
# The same points as (step, timestamp, value), the value NULL for a point
# that is NaN or names a model or dataset: nearly every history has neither,
# and three columns come back from the driver in half the time of seven.
_PLAIN_VALUE = case(
    (
        or_(
            metrics.c.is_nan,
            metrics.c.model_id.is_not(None),
            metrics.c.dataset_name.is_not(None),
            metrics.c.dataset_digest.is_not(None),
        ),
        null(),
    ),
    else_=metrics.c.value,
)
_PLAIN_HISTORY = _HISTORY.with_only_columns(
    metrics.c.step, metrics.c.timestamp, _PLAIN_VALUE
)
_COUNT = select(func.count()).select_from(metrics).where(*_OF_RUN_AND_KEY)
_COUNT_IN_STEPS = _COUNT.where(*_IN_STEPS)


class _NewPoint:
    """A Metric under construction: the same slots, but plain to set.

    Metric is a frozen dataclass, so its ``__init__`` routes every field
    through ``object.__setattr__``, the slowest way there is to set a slot.
    This class has Metric's slots in Metric's order and no frozen guard, so
    each field is stored straight into its slot; the finished object then
    becomes a Metric by ``__class__`` assignment, which Python allows
    between classes of the same layout. A 100,000-point history is built in
    under half the time ``Metric()`` takes. Each builder below writes the
    stores out in its own loop: a call per point would give back a third of
    the gain.
    """

    __slots__ = Metric.__slots__

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None
    model_id: str | None
    dataset_name: str | None
    dataset_digest: str | None


# The value of a plain history row.
_VALUE = itemgetter(2)


def new_metric(
    key: str, value: float, timestamp: int, step: int, run_id: str
) -> Metric:
    """A point without model or dataset, built as ``build_points`` does."""
    point = object.__new__(_NewPoint)
    point.key = key
    point.value = value
    point.timestamp = timestamp
    point.step = step
    point.run_id = run_id
    point.model_id = None
    point.dataset_name = None
    point.dataset_digest = None
    point.__class__ = Metric  # type: ignore[assignment]
    return point  # type: ignore[return-value]


def build_points(key: str, run_id: str, rows: Iterable[Any]) -> list[Metric]:
    """Metric objects for history rows (see :class:`_NewPoint`)."""
    new = object.__new__
    points: list[Any] = []
    append = points.append
    for step, timestamp, value, is_nan, model_id, ds_name, ds_digest in rows:
        point = new(_NewPoint)
        point.key = key
        point.value = _NAN if is_nan else value
        point.timestamp = timestamp
        point.step = step
        point.run_id = run_id
        point.model_id = model_id
        point.dataset_name = ds_name
        point.dataset_digest = ds_digest
        point.__class__ = Metric  # type: ignore[assignment]
        append(point)
    return points


def build_plain_points(key: str, run_id: str, rows: Iterable[Any]) -> list[Metric]:
    """:func:`build_points` for plain (step, timestamp, value) rows."""
    new = object.__new__
    points: list[Any] = []
    append = points.append
    for step, timestamp, value in rows:
        point = new(_NewPoint)
        point.key = key
        point.value = value
        point.timestamp = timestamp
        point.step = step
        point.run_id = run_id
        point.model_id = None
        point.dataset_name = None
        point.dataset_digest = None
        point.__class__ = Metric  # type: ignore[assignment]
        append(point)
    return points


def history_dicts(key: str, rows: Sequence[Any]) -> list[JSONObject]:
    """History rows as MLflow's JSON points (``kiln.wire.metric_to_dict``
    without the run id, which MLflow's history leaves out too)."""
    return [_history_dict(key, row) for row in rows]


def plain_history_dicts(key: str, rows: Sequence[Any]) -> list[JSONObject]:
    """:func:`history_dicts` for plain (step, timestamp, value) rows, made
    in one comprehension; only infinities need their JSON spelling."""
    if math.isfinite(sum(map(_VALUE, rows))):
        return [
            {"key": key, "value": value, "timestamp": timestamp, "step": step}
            for step, timestamp, value in rows
        ]
    return [
        {"key": key, "value": encode_double(value), "timestamp": ts, "step": step}
        for step, ts, value in rows
    ]


def _history_dict(key: str, row: Sequence[Any]) -> JSONObject:
    step, timestamp, value, is_nan, model_id, ds_name, ds_digest = row
    point: JSONObject = {
        "key": key,
        "value": "NaN" if is_nan else encode_double(value),
        "timestamp": timestamp,
        "step": step,
    }
    for name, field in (
        ("model_id", model_id),
        ("dataset_name", ds_name),
        ("dataset_digest", ds_digest),
    ):
        if field is not None:
            point[name] = field
    return point


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while many objects are built.

    Building 100,000 points would otherwise trigger collections that scan
    every object the process holds, time and again: about a third of the
    time of reading a long history. Nothing built here forms cycles, so
    deferring the collector loses nothing. Collection stays off if it was
    off, and another thread pausing at the same time cannot leave it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MetricReads:
    """History queries compiled once per store."""

    def __init__(self, dialect: Dialect) -> None:
        self._history = compile_sql(_HISTORY, dialect)
        self._plain_history = compile_sql(_PLAIN_HISTORY, dialect)
        self._history_in_steps = compile_sql(_HISTORY_IN_STEPS, dialect)
        self._count = compile_sql(_COUNT, dialect)
        self._count_in_steps = compile_sql(_COUNT_IN_STEPS, dialect)

    def history_rows(
        self,
        connection: Connection,
        run_id: str,
        key: str,
        offset: int,
        limit: int | None,
    ) -> tuple[bool, list[Any]]:
        """Rows of one metric's points ordered by step, then timestamp, and
        whether they are plain (step, timestamp, value) rows.

        The plain query runs first; only when it finds a point it cannot
        carry (NaN, a model or a dataset) are the page's full rows read.
        """
        args: Params = {
            "run_id": run_id,
            "key": key,
            "offset": offset,
            "limit": NO_LIMIT if limit is None else limit,
        }
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._plain_history, args)
            rows: list[Any] = cursor.fetchall()
            if None not in map(_VALUE, rows):
                return True, rows
            del rows
            cursor.execute(self._history, args)
            return False, cursor.fetchall()
        finally:
            cursor.close()

    def sampled(
        self,
        connection: Connection,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[Metric]:
        """At most ``max_results`` points per run, evenly spaced by row.

        Rows are counted first, then the chosen positions are picked while
        the points stream past; first and last are always kept. Runs come
        back in the order of ``run_ids``.
        """
        _validate_bulk_request(run_ids, key, max_results, start_step, end_step)
        ranged = start_step is not None
        args: Params = {"key": key, "start_step": start_step, "end_step": end_step}
        args.update(offset=0, limit=NO_LIMIT)
        count_sql = self._count_in_steps if ranged else self._count
        points_sql = self._history_in_steps if ranged else self._history
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        points: list[Metric] = []
        try:
            for run_id in dict.fromkeys(run_ids):
                args["run_id"] = run_id
                cursor.execute(count_sql, args)
                count = cursor.fetchone()[0]
                if not count:
                    continue
                cursor.execute(points_sql, args)
                with gc_paused():
                    rows = _pick_rows(cursor, sample_indices(count, max_results))
                    points.extend(build_points(key, run_id, rows))
        finally:
            cursor.close()
        return points


def _validate_bulk_request(
    run_ids: Sequence[str],
    metric_key: str,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> None:
    if not run_ids:
        raise InvalidParameterValue("Give at least one run id.")
    if len(run_ids) > METRIC_HISTORY_BULK_MAX_RUNS:
        raise InvalidParameterValue(
            f"Got {len(run_ids)} run ids; at most {METRIC_HISTORY_BULK_MAX_RUNS} "
            "may be asked for at once."
        )
    for run_id in run_ids:
        validate_run_id(run_id)
    validate_key(metric_key)
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= METRIC_HISTORY_BULK_MAX_RESULTS
    ):
        raise InvalidParameterValue(
            f"Invalid max_results {max_results!r}; expected 1 to "
            f"{METRIC_HISTORY_BULK_MAX_RESULTS}."
        )
    if (start_step is None) != (end_step is None):
        raise InvalidParameterValue(
            f"Give both start_step and end_step or neither, got {start_step!r} "
            f"and {end_step!r}."
        )
    for step in (start_step, end_step):
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise InvalidParameterValue(f"Invalid step {step!r}; expected an integer.")


def sample_indices(count: int, wanted: int) -> list[int]:
    """``wanted`` row positions out of ``count``, evenly spread, first and last
    included (only the first when ``wanted`` is 1); all when ``count`` is small.
    """
    if count <= wanted:
        return list(range(count))
    if wanted == 1:
        return [0]
    return [-(-k * (count - 1) // (wanted - 1)) for k in range(wanted)]


def _pick_rows(cursor: Any, positions: list[int]) -> list[Any]:
    # Reads the result in blocks and keeps the rows at ``positions``
    # (ascending), so a long history is never held whole in memory.
    picked: list[Any] = []
    base = 0
    index = 0
    while index < len(positions):
        block = cursor.fetchmany(_FETCH_BLOCK)
        if not block:
            break
        end = base + len(block)
        while index < len(positions) and positions[index] < end:
            picked.append(block[positions[index] - base])
            index += 1
        base = end
    return picked
