"""Metric points in SQL: the logging hot path and the history reads.

Logging one point is the call a training loop makes most, so it runs
precompiled SQL straight on a DBAPI connection: begin, insert the point if
the run is active, move ``latest_metrics`` forward, commit. The run's state
is read inside every transaction rather than cached, because another process
(a server, a second script) may delete the run at any time; folded into the
insert, that read costs microseconds. Only what cannot change is remembered:
run ids and metric keys already found valid.

A log that races a concurrent ``delete_run`` either commits before the
deletion or sees the run deleted; a point never lands in a run already
deleted when the log began.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    func,
    select,
)

from kiln.entities import Metric
from kiln.errors import InvalidParameterValue
from kiln.store.base import (
    METRIC_HISTORY_BULK_MAX_RESULTS,
    METRIC_HISTORY_BULK_MAX_RUNS,
)
from kiln.store.lock_wait import WriteLockBusy
from kiln.store.sql.connections import HotConnections
from kiln.store.sql.engine import begin_immediate
from kiln.store.sql.runs import raise_unless_active
from kiln.store.sql.schema import metrics
from kiln.store.sql.statements import (
    PLAIN_POINT,
    MetricStatements,
    Params,
    compile_sql,
)
from kiln.validation import validate_key, validate_metric, validate_run_id

_NAN = float("nan")
_INT64_MAX = 2**63 - 1
_MAX_REMEMBERED = 10_000

_POINT_COLUMNS = (
    metrics.c.step,
    metrics.c.timestamp,
    metrics.c.value,
    metrics.c.is_nan,
    metrics.c.model_id,
    metrics.c.dataset_name,
    metrics.c.dataset_digest,
)
# The primary key's order after (run_id, key), so the index returns rows
# already sorted; NaN (stored as 0) ties with 0 only at an equal timestamp.
_POINT_ORDER = (
    metrics.c.step,
    metrics.c.timestamp,
    metrics.c.value,
    metrics.c.is_nan,
)


# LIMIT for "every point": SQLite needs some LIMIT before OFFSET.
_NO_LIMIT = 2**62

_FETCH_BLOCK = 10_000

_OF_RUN_AND_KEY = (
    metrics.c.run_id == bindparam("run_id"),
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
_COUNT = select(func.count()).select_from(metrics).where(*_OF_RUN_AND_KEY)
_COUNT_IN_STEPS = _COUNT.where(*_IN_STEPS)


_PLAIN_FIELDS = attrgetter("key", "step", "timestamp", "value")
_CHECKED_FIELDS = attrgetter("key", "value", "timestamp", "step")
_POINT_KEY = attrgetter("key")
_FLOAT_ONLY = {float}
_INT_ONLY = {int}
# Columns of a PLAIN_POINT row.
_KEY = itemgetter(1)
_STEP_TIMESTAMP_VALUE = itemgetter(2, 3, 4)
_IS_NAN = itemgetter(5)
_EXTRA_FIELDS = attrgetter("model_id", "dataset_name", "dataset_digest")
_NO_EXTRA = (None, None, None)


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


def point_rows(run_id: str, points: Sequence[Metric]) -> tuple[list[Any], bool]:
    """Rows of ``metrics`` as tuples, and whether they are in FULL_POINT order;
    when no point names a model or dataset they are in PLAIN_POINT order."""
    if {*map(_EXTRA_FIELDS, points)} - {_NO_EXTRA}:
        return [
            (run_id, p.key, p.step, p.timestamp, *stored_value(p.value), *extra)
            for p, extra in zip(points, map(_EXTRA_FIELDS, points), strict=True)
        ], True
    if not points:
        return [], False
    keys, steps, timestamps, values = zip(*map(_PLAIN_FIELDS, points), strict=True)
    if {*map(type, values)} == _FLOAT_ONLY and not any(map(math.isnan, values)):
        # The common case, zipped column by column without a Python loop.
        count = len(points)
        plain = zip(
            repeat(run_id, count),
            keys,
            steps,
            timestamps,
            values,
            repeat(False, count),
            strict=True,
        )
        return list(plain), False
    return [
        (run_id, key, step, timestamp, *stored_value(value))
        for key, step, timestamp, value in map(_PLAIN_FIELDS, points)
    ], False


def latest_rows(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The latest point of each key among ``rows`` (PLAIN_POINT order first).

    Mirrors ``statements.upsert_latest_metric``: highest step, then
    timestamp, then a number before NaN, then value.
    """
    if rows and len(rows[0]) == len(PLAIN_POINT) and not any(map(_IS_NAN, rows)):
        # Without NaN the order is (step, timestamp, value): after a stable
        # sort the last row of each key is its latest, found without a
        # Python loop.
        ordered = sorted(rows, key=_STEP_TIMESTAMP_VALUE)
        return list(dict(zip(map(_KEY, ordered), ordered, strict=True)).values())
    best: dict[str, Sequence[Any]] = {}
    for row in rows:
        key = row[1]
        held = best.get(key)
        # A higher step decides at once; only ties need the full order.
        if (
            held is None
            or row[2] > held[2]
            or (row[2] == held[2] and _latest_order(row) > _latest_order(held))
        ):
            best[key] = row
    return [row[: len(PLAIN_POINT)] for row in best.values()]


def _latest_order(row: Sequence[Any]) -> tuple[int, int, bool, float]:
    return (row[2], row[3], not row[5], row[4])


_SETTERS = tuple(
    getattr(Metric, name).__set__
    for name in (
        "key",
        "value",
        "timestamp",
        "step",
        "run_id",
        "model_id",
        "dataset_name",
        "dataset_digest",
    )
)


def new_metric(
    key: str, value: float, timestamp: int, step: int, run_id: str
) -> Metric:
    """A point without model or dataset, set up as ``_build_points`` does."""
    set_key, set_value, set_ts, set_step, set_run, set_model, set_ds, set_dg = _SETTERS
    point = object.__new__(Metric)
    set_key(point, key)
    set_value(point, value)
    set_ts(point, timestamp)
    set_step(point, step)
    set_run(point, run_id)
    set_model(point, None)
    set_ds(point, None)
    set_dg(point, None)
    return point


def _build_points(key: str, run_id: str, rows: Sequence[Any]) -> list[Metric]:
    """Metric objects for history rows, twice as fast as calling Metric().

    A long history holds 100,000 points or more. The frozen dataclass's
    ``__init__`` routes every field through ``object.__setattr__``; the slot
    descriptors set the same fields directly.
    """
    set_key, set_value, set_ts, set_step, set_run, set_model, set_ds, set_dg = _SETTERS
    new = object.__new__
    points: list[Metric] = []
    append = points.append
    for step, timestamp, value, is_nan, model_id, ds_name, ds_digest in rows:
        point = new(Metric)
        set_key(point, key)
        set_value(point, _NAN if is_nan else value)
        set_ts(point, timestamp)
        set_step(point, step)
        set_run(point, run_id)
        set_model(point, model_id)
        set_ds(point, ds_name)
        set_dg(point, ds_digest)
        append(point)
    return points


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


def _remember(known: set[str], value: str) -> None:
    # Bounded so a process logging millions of distinct keys keeps its memory.
    if len(known) >= _MAX_REMEMBERED:
        known.clear()
    known.add(value)


class MetricLog:
    """Writes and reads metric points with SQL compiled once per store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sql = MetricStatements(engine.dialect)
        self._history = compile_sql(_HISTORY, engine.dialect)
        self._history_in_steps = compile_sql(_HISTORY_IN_STEPS, engine.dialect)
        self._count = compile_sql(_COUNT, engine.dialect)
        self._count_in_steps = compile_sql(_COUNT_IN_STEPS, engine.dialect)
        self._connections = HotConnections(engine)
        self._known_keys: set[str] = set()
        self._known_run_ids: set[str] = set()

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Store one point in its own transaction."""
        if run_id not in self._known_run_ids:
            validate_run_id(run_id)
            _remember(self._known_run_ids, run_id)
        if not self._is_plain_point(metric):
            validate_metric(metric)
            _remember(self._known_keys, metric.key)
        value = metric.value
        if type(value) is float and value == value:
            point = (run_id, metric.key, metric.step, metric.timestamp, value, False)
        else:
            stored = stored_value(value)
            point = (run_id, metric.key, metric.step, metric.timestamp, *stored)
        extra = (metric.model_id, metric.dataset_name, metric.dataset_digest)
        sql = self._sql
        args: tuple[object, ...]
        plain = extra == (None, None, None)
        if plain:
            insert, args = sql.insert_plain_point_if_active, (*point, run_id)
        else:
            insert, args = sql.insert_full_point_if_active, (*point, *extra, run_id)
        at_once = sql.log_plain_point_at_once if plain else sql.log_full_point_at_once
        if at_once is not None:
            self._log_at_once(at_once, args)
            return
        self._in_transaction(lambda cursor: self._insert_point(cursor, insert, args))

    def _log_at_once(self, statement: str, args: tuple[object, ...]) -> None:
        # One autocommitted statement (see statements.log_point_at_once);
        # the connection goes back to the pool in its usual mode.
        connection, cursor = self._connections.acquire()
        driver = connection.driver_connection
        failed = True
        try:
            driver.autocommit = True
            try:
                cursor.execute(statement, args)
                (landed,) = cursor.fetchone()
                if not landed:
                    # The run is missing or deleted, or the point was
                    # logged before (which changes nothing).
                    self._check_active(cursor, args[0])
            finally:
                driver.autocommit = False
            failed = False
        finally:
            self._connections.release(connection, failed)

    def log_points(self, run_id: str, points: Sequence[Metric]) -> None:
        """Store validated points in their own transaction, all or none."""
        rows, full = point_rows(run_id, points)
        sql = self._sql
        insert = sql.insert_full_points if full else sql.insert_plain_points

        def write(cursor: Any) -> None:
            self._check_active(cursor, run_id)
            if rows:
                cursor.executemany(insert, rows)
                cursor.executemany(sql.upsert_latest_point, latest_rows(rows))

        self._in_transaction(write)

    def _insert_point(self, cursor: Any, insert: str, args: tuple[object, ...]) -> None:
        cursor.execute(insert, args)
        if cursor.rowcount:
            cursor.execute(self._sql.upsert_latest_point, args[: len(PLAIN_POINT)])
        else:
            # Nothing landed: the run is missing or deleted, or this very
            # point was logged before (which changes nothing).
            self._check_active(cursor, args[0])

    def _check_active(self, cursor: Any, run_id: object) -> None:
        cursor.execute(self._sql.select_run_stage, {"run_id": run_id})
        found = cursor.fetchone()
        raise_unless_active(str(run_id), None if found is None else found[0])

    def _in_transaction(self, work: Callable[[Any], None]) -> None:
        # One transaction on this thread's hot connection; committed when
        # ``work`` returns, rolled back when it raises.
        connection, cursor = self._connections.acquire()
        failed = True
        try:
            if self._sql.begin is not None:
                try:
                    begin_immediate(cursor.connection, cursor.execute)
                except WriteLockBusy:
                    # Nothing began: the connection is kept for the next call.
                    failed = False
                    raise
            work(cursor)
            connection.commit()
            failed = False
        finally:
            try:
                if failed:
                    connection.rollback()
            finally:
                # A connection whose rollback failed is dropped, not reused.
                self._connections.release(connection, failed)

    def _is_plain_point(self, metric: Metric) -> bool:
        # The common case checked in a few operations: a key validated
        # before, a float value and in-range integers. Anything else goes
        # through the full validation, which accepts or explains it.
        return (
            metric.key in self._known_keys
            and type(metric.value) is float
            and type(metric.timestamp) is int
            and type(metric.step) is int
            and 0 <= metric.timestamp <= _INT64_MAX
            and -_INT64_MAX - 1 <= metric.step <= _INT64_MAX
        )

    def read_sampled(
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
        args.update(offset=0, limit=_NO_LIMIT)
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
                    points.extend(_build_points(key, run_id, rows))
        finally:
            cursor.close()
        return points

    def needing_validation(self, points: Sequence[Metric]) -> list[Metric]:
        """The points the quick check cannot vouch for."""
        if points and self._all_plain(points):
            return []
        # _is_plain_point inlined: at a thousand points per batch the calls
        # alone would cost a third of the check.
        known = self._known_keys
        return [
            p
            for p in points
            if not (
                p.key in known
                and type(p.value) is float
                and type(p.timestamp) is int
                and type(p.step) is int
                and 0 <= p.timestamp <= _INT64_MAX
                and -_INT64_MAX - 1 <= p.step <= _INT64_MAX
            )
        ]

    def _all_plain(self, points: Sequence[Metric]) -> bool:
        # _is_plain_point for a whole batch, column by column: the type and
        # range checks run in C, not once per point in Python.
        keys, values, timestamps, steps = zip(
            *map(_CHECKED_FIELDS, points), strict=True
        )
        return (
            self._known_keys.issuperset(keys)
            and {*map(type, values)} == _FLOAT_ONLY
            and {*map(type, timestamps)} == _INT_ONLY
            and {*map(type, steps)} == _INT_ONLY
            and min(timestamps) >= 0
            and max(timestamps) <= _INT64_MAX
            and min(steps) >= -_INT64_MAX - 1
            and max(steps) <= _INT64_MAX
        )

    def remember_keys(self, points: Sequence[Metric]) -> None:
        """Note the keys of points that passed validation."""
        known = self._known_keys
        if known.issuperset(map(_POINT_KEY, points)):
            return
        if len(known) + len(points) > _MAX_REMEMBERED:
            known.clear()
        known.update(map(_POINT_KEY, points))

    def close(self) -> None:
        self._connections.close_all()

    def write_points(
        self, connection: Connection, run_id: str, points: Sequence[Metric]
    ) -> None:
        """Store points inside the caller's transaction (run already checked)."""
        if not points:
            return
        rows, full = point_rows(run_id, points)
        sql = self._sql.insert_full_points if full else self._sql.insert_plain_points
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
            cursor.executemany(self._sql.upsert_latest_point, latest_rows(rows))
        finally:
            cursor.close()

    def read_history(
        self,
        connection: Connection,
        run_id: str,
        key: str,
        offset: int,
        limit: int | None,
    ) -> list[Metric]:
        """Points of one metric ordered by step then timestamp."""
        args: Params = {
            "run_id": run_id,
            "key": key,
            "offset": offset,
            "limit": _NO_LIMIT if limit is None else limit,
        }
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with gc_paused():
                cursor.execute(self._history, args)
                return _build_points(key, run_id, cursor.fetchall())
        finally:
            cursor.close()


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
