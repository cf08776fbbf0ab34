"""Metric points in SQL: the logging hot path and the history reads.

Logging one point is the call a training loop makes most, so it runs
precompiled SQL straight on a DBAPI connection: begin, insert the point if
the run is active, move ``latest_metrics`` forward, commit. The run's state
is read inside every transaction rather than cached, because another process
(a server, a second script) may delete the run at any time; folded into the
insert, that read costs microseconds. Only what cannot change is remembered:
run ids and metric keys already found valid.

Points are stored under the run's integer key (``run_keys``), made in the
transaction of the run's first point. A batch's rows bind only the points'
own fields; each metric key's latest value is then read back from the
primary key, which holds the points in order, so a batch is never sorted in
Python.

A log that races a concurrent ``delete_run`` either commits before the
deletion or sees the run deleted; a point never lands in a run already
deleted when the log began.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Engine

from kiln.entities import Metric
from kiln.errors import KilnError
from kiln.store.lock_wait import WriteLockBusy
from kiln.store.sql.connections import HotConnections
from kiln.store.sql.engine import begin_immediate
from kiln.store.sql.metric_reads import (
    MetricReads,
    build_plain_points,
    build_points,
    gc_paused,
    history_dicts,
    new_metric,
    plain_history_dicts,
    sample_indices,
)
from kiln.store.sql.metric_rows import (
    Rows,
    full_rows,
    plain_rows,
    plain_rows_from_json,
    stored_value,
)
from kiln.store.sql.runs import raise_unless_active
from kiln.store.sql.statements import MetricStatements
from kiln.validation import validate_metric, validate_run_id
from kiln.wire.encoding import JSONObject

__all__ = [
    "MetricLog",
    "gc_paused",
    "new_metric",
    "sample_indices",
    "stored_value",
]

_INT64_MAX = 2**63 - 1
_MAX_REMEMBERED = 10_000

_POINT_KEY = attrgetter("key")


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
        self._reads = MetricReads(engine.dialect)
        self._connections = HotConnections(engine)
        self._known_keys: set[str] = set()
        self._known_run_ids: set[str] = set()

    # -- single points -------------------------------------------------------
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
            point = (metric.key, metric.step, metric.timestamp, value, False)
        else:
            point = (metric.key, metric.step, metric.timestamp, *stored_value(value))
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
            self._log_at_once(at_once, (*args, run_id), run_id)
            return
        latest = (run_id, *point)
        self._in_transaction(
            lambda cursor: self._insert_point(cursor, insert, args, latest)
        )

    def _log_at_once(
        self, statement: str, args: tuple[object, ...], run_id: str
    ) -> None:
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
                    # See _insert_point.
                    self._run_key(cursor, run_id)
                    cursor.execute(statement, args)
                    cursor.fetchone()
            finally:
                driver.autocommit = False
            failed = False
        finally:
            self._connections.release(connection, failed)

    def _insert_point(
        self,
        cursor: Any,
        insert: str,
        args: tuple[object, ...],
        latest: tuple[object, ...],
    ) -> None:
        cursor.execute(insert, args)
        if not cursor.rowcount:
            # Nothing landed: the run is missing or deleted (which raises),
            # it had no key yet (its first point, or another connection was
            # making the key meanwhile), or this very point was logged before.
            # Once the key surely exists, one more try settles it.
            self._run_key(cursor, str(args[-1]))
            cursor.execute(insert, args)
            if not cursor.rowcount:
                return
        cursor.execute(self._sql.upsert_latest_point, latest)

    # -- batches -------------------------------------------------------------
    def log_plain(self, run_id: str, points: Sequence[Metric]) -> bool:
        """Store a batch in its own transaction if the quick check vouches for
        every point (see :func:`kiln.store.sql.metric_rows.plain_rows`);
        False, with nothing done, when it must take the long way."""
        with gc_paused():
            rows = plain_rows(points, self._known_keys)
            if rows is not None:
                self._log_rows(run_id, rows)
            return rows is not None

    def log_plain_json(self, run_id: str, points: object) -> bool:
        """:meth:`log_plain` for a request's JSON points."""
        with gc_paused():
            rows = plain_rows_from_json(points, self._known_keys)
            if rows is not None:
                self._log_rows(run_id, rows)
            return rows is not None

    def _log_rows(self, run_id: str, rows: Rows) -> None:
        # A batch's thousand row tuples live only as long as this call: with
        # the collector paused (by the callers) they never set off a
        # collection, which would scan every object the process holds, such
        # as the caller's own points.
        self._in_transaction(lambda cursor: self._write_rows(cursor, run_id, rows))

    def log_points(self, run_id: str, points: Sequence[Metric]) -> None:
        """Store validated points in their own transaction, all or none."""
        rows = full_rows(points)
        self._in_transaction(lambda cursor: self._write_rows(cursor, run_id, rows))

    def write_points(
        self, connection: Connection, run_id: str, points: Sequence[Metric]
    ) -> None:
        """Store points inside the caller's transaction (run already checked)."""
        if not points:
            return
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            self.write_points_with(cursor, run_id, points)
        finally:
            cursor.close()

    def write_points_with(
        self, cursor: Any, run_id: str, points: Sequence[Metric]
    ) -> None:
        """:meth:`write_points` through ``cursor``, a driver cursor in the
        caller's write transaction."""
        if points:
            self._write_rows(cursor, run_id, full_rows(points))

    def _write_rows(self, cursor: Any, run_id: str, rows: Rows) -> None:
        # The run must be active; an empty batch checks only that.
        run_key = self._run_key(cursor, run_id)
        if not rows.rows:
            return
        sql = self._sql
        cursor.executemany(sql.insert_rows(run_key, rows.plain), rows.rows)
        # Sorted keys: concurrent batches to one run on PostgreSQL take the
        # latest rows' locks in the same order.
        latest = [(run_id, run_key, key) for key in sorted(rows.keys)]
        cursor.executemany(sql.update_latest, latest)

    # -- run keys ------------------------------------------------------------
    def _run_key(self, cursor: Any, run_id: str) -> int:
        """The active run's integer key, made now if it has none yet."""
        found = self._select_run_key(cursor, run_id)
        if found is not None:
            return found
        # On PostgreSQL another transaction may be making the same key: the
        # insert then waits for it and adds nothing, and the key it made is
        # read back all the same.
        cursor.execute(self._sql.add_run_key, (run_id,))
        made = self._select_run_key(cursor, run_id)
        if made is None:
            raise KilnError(f"No metric key could be made for the run {run_id!r}.")
        return made

    def _select_run_key(self, cursor: Any, run_id: str) -> int | None:
        # Raises for a missing or deleted run.
        cursor.execute(self._sql.select_run_key, (run_id,))
        found = cursor.fetchone()
        raise_unless_active(run_id, None if found is None else found[0])
        run_key: int | None = found[1]
        return run_key

    # -- transactions --------------------------------------------------------
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

    # -- validation ----------------------------------------------------------
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

    def needing_validation(self, points: Sequence[Metric]) -> list[Metric]:
        """The points the quick check cannot vouch for."""
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

    # -- reads ---------------------------------------------------------------
    def read_history(
        self,
        connection: Connection,
        run_id: str,
        key: str,
        offset: int,
        limit: int | None,
    ) -> list[Metric]:
        """Points of one metric ordered by step then timestamp."""
        with gc_paused():
            plain, rows = self._reads.history_rows(
                connection, run_id, key, offset, limit
            )
            build = build_plain_points if plain else build_points
            return build(key, run_id, rows)

    def read_history_json(
        self,
        connection: Connection,
        run_id: str,
        key: str,
        offset: int,
        limit: int | None,
    ) -> list[JSONObject]:
        """:meth:`read_history` as MLflow's JSON points (no run id)."""
        with gc_paused():
            plain, rows = self._reads.history_rows(
                connection, run_id, key, offset, limit
            )
            return (plain_history_dicts if plain else history_dicts)(key, rows)

    def read_sampled(
        self,
        connection: Connection,
        run_ids: Sequence[str],
        key: str,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[Metric]:
        """At most ``max_results`` points per run, evenly spaced by row."""
        return self._reads.sampled(
            connection, run_ids, key, max_results, start_step, end_step
        )
