"""Statements that differ between SQLite and PostgreSQL, and precompiled SQL.

Both dialects offer ``INSERT ... ON CONFLICT`` with the same meaning, but
SQLAlchemy builds it from a dialect-specific ``insert``. The logging hot path
skips SQLAlchemy's per-call work by compiling its statements once to the
driver's SQL text and running them on the DBAPI cursor with dict parameters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    false,
    func,
    literal_column,
    not_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert

from kiln.entities import LifecycleStage
from kiln.errors import KilnError
from kiln.store.sql.schema import latest_metrics, metrics, run_keys, runs

Params = dict[str, Any]


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return int(time.time() * 1000)


def dialect_insert(dialect_name: str, table: Table) -> Any:
    """The dialect's ``insert``, which knows ``on_conflict_do_*``."""
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def insert_ignore(dialect_name: str, table: Table) -> Insert:
    """INSERT that silently skips rows clashing with a unique key."""
    stmt: Insert = dialect_insert(dialect_name, table).on_conflict_do_nothing()
    return stmt


def upsert(
    dialect_name: str,
    table: Table,
    keys: Sequence[str],
    updates: Sequence[str],
    where: Any = None,
) -> Insert:
    """INSERT that overwrites ``updates`` columns when ``keys`` clash."""
    stmt = dialect_insert(dialect_name, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in updates},
        where=where(stmt.excluded) if where is not None else None,
    )
    result: Insert = stmt
    return result


def _latest_order(columns: Any) -> ColumnElement[Any]:
    # The latest point has the highest step, then timestamp, then value; at
    # equal step and timestamp a number beats NaN (NaN is stored as 0).
    return tuple_(columns.step, columns.timestamp, not_(columns.is_nan), columns.value)


def upsert_latest_metric(dialect_name: str) -> Insert:
    """Replace a run's latest point of a metric only by a later one."""
    return upsert(
        dialect_name,
        latest_metrics,
        ("run_id", "key"),
        ("step", "timestamp", "value", "is_nan"),
        where=lambda excluded: (
            _latest_order(excluded) > _latest_order(latest_metrics.c)
        ),
    )


def compile_sql(stmt: Any, dialect: Dialect) -> str:
    """The SQL text of ``stmt`` for the DBAPI cursor, taking dict parameters."""
    if dialect.name == "sqlite":
        # sqlite3 takes :name parameters from a dict; the engine's dialect
        # would emit positional ?.
        dialect = sqlite.dialect(paramstyle="named")
    return str(stmt.compile(dialect=dialect))


def insert_metric_if_active(dialect_name: str, columns: Sequence[str]) -> Insert:
    """INSERT of one point's ``columns`` that lands only while the run is active
    and has its key in ``run_keys``.

    Folding the run's state into the insert saves a statement per logged
    point; when no row lands the caller finds out why (and makes the run's
    key if that was missing). The run id is bound last, after the columns.
    """
    point = (
        select(
            run_keys.c.run_key,
            *[bindparam(c, type_=metrics.c[c].type) for c in columns],
        )
        .select_from(run_keys.join(runs, runs.c.run_id == run_keys.c.run_id))
        .where(
            run_keys.c.run_id == bindparam("run_id", type_=runs.c.run_id.type),
            runs.c.lifecycle_stage == literal_column(f"'{LifecycleStage.ACTIVE}'"),
        )
    )
    stmt = dialect_insert(dialect_name, metrics).from_select(
        ["run_key", *columns], point
    )
    result: Insert = stmt.on_conflict_do_nothing()
    return result


def log_point_at_once(dialect_name: str, columns: Sequence[str]) -> Any:
    """One statement that inserts a point if the run is active, moves the
    latest value forward and returns how many points landed (0 or 1).

    PostgreSQL runs both inserts as data-modifying CTEs of one query, so a
    logged point costs a single round trip in autocommit mode instead of
    one per statement plus BEGIN and COMMIT.
    """
    point = (
        insert_metric_if_active(dialect_name, columns)
        .returning(*[metrics.c[c] for c in POINT])
        .cte("point")
    )
    run_id = bindparam("run_id", type_=runs.c.run_id.type)
    latest = upsert_latest_metric(dialect_name).from_select(
        list(LATEST_POINT), select(run_id, *[point.c[c] for c in POINT])
    )
    return select(func.count()).select_from(point).add_cte(latest.cte("latest"))


def latest_from_points(dialect_name: str) -> Insert:
    """Move a run's latest value of one key to its latest stored point.

    The point is found in ``metrics`` by the primary key (the highest step
    and timestamp, read backwards), so a batch needs no sorting to find it.
    Binds the run id, the run's key and the metric key.
    """
    found = (
        select(
            bindparam("run_id", type_=runs.c.run_id.type),
            *[metrics.c[c] for c in POINT],
        )
        .where(
            metrics.c.run_key == bindparam("run_key", type_=metrics.c.run_key.type),
            metrics.c.key == bindparam("key", type_=metrics.c.key.type),
        )
        .order_by(
            metrics.c.step.desc(),
            metrics.c.timestamp.desc(),
            metrics.c.is_nan,
            metrics.c.value.desc(),
        )
        # Literals: a bound LIMIT would be one more parameter per key.
        .limit(literal_column("1"))
        .offset(literal_column("0"))
    )
    stmt: Insert = upsert_latest_metric(dialect_name).from_select(
        list(LATEST_POINT), found
    )
    return stmt


# Positional parameter order: one point as stored, the same with its model
# and dataset, a latest value, and a batch row without NaN, model or dataset.
POINT = ("key", "step", "timestamp", "value", "is_nan")
FULL_POINT = (*POINT, "model_id", "dataset_name", "dataset_digest")
LATEST_POINT = ("run_id", *POINT)
PLAIN_ROW = ("key", "step", "timestamp", "value")

# Stands for the run's key in the batch inserts' SQL text (see insert_points).
_RUN_KEY_MARK = "__run_key__"


def compile_positional(
    stmt: Any, dialect: Dialect, order: Sequence[str], columns: Sequence[str] = ()
) -> str:
    """The SQL text of ``stmt`` taking a tuple of parameters in ``order``.

    Drivers bind a tuple faster than a dict, which counts at a thousand rows
    per batch; an INSERT limited to ``columns`` leaves the others NULL,
    cheaper still than binding None.
    """
    if dialect.name == "sqlite":
        positional: Dialect = sqlite.dialect()
    else:
        positional = type(dialect)(paramstyle="format")  # type: ignore[call-arg]
    compiled = stmt.compile(dialect=positional, column_keys=list(columns) or None)
    if tuple(compiled.positiontup or ()) != tuple(order):
        raise KilnError(
            f"The compiled statement binds {compiled.positiontup!r}, not {order!r}."
        )
    return str(compiled)


def _batch_insert(dialect_name: str, columns: Sequence[str], nan_free: bool) -> Any:
    values: dict[str, Any] = {"run_key": literal_column(_RUN_KEY_MARK)}
    values.update((c, bindparam(c, type_=metrics.c[c].type)) for c in columns)
    if nan_free:
        values["is_nan"] = false()
    return insert_ignore(dialect_name, metrics).values(values).inline()


class MetricStatements:
    """The hot-path SQL of metric logging, compiled once per store."""

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
        # Batch rows bind only the point's fields: the run's key is written
        # into the SQL text (see insert_points), and so is is_nan for rows
        # without NaN, which lets the rows be the points' fields as read.
        self._insert_plain_rows = compile_positional(
            _batch_insert(name, PLAIN_ROW, nan_free=True), dialect, PLAIN_ROW
        )
        self._insert_full_rows = compile_positional(
            _batch_insert(name, FULL_POINT, nan_free=False), dialect, FULL_POINT
        )
        self.update_latest = compile_positional(
            latest_from_points(name), dialect, ("run_id", "run_key", "key")
        )
        self.insert_plain_point_if_active = compile_positional(
            insert_metric_if_active(name, POINT), dialect, (*POINT, "run_id")
        )
        self.insert_full_point_if_active = compile_positional(
            insert_metric_if_active(name, FULL_POINT), dialect, (*FULL_POINT, "run_id")
        )
        self.upsert_latest_point = compile_positional(
            upsert_latest_metric(name), dialect, LATEST_POINT, LATEST_POINT
        )
        self.select_run_key = compile_positional(
            select(runs.c.lifecycle_stage, run_keys.c.run_key)
            .select_from(runs.outerjoin(run_keys, run_keys.c.run_id == runs.c.run_id))
            .where(runs.c.run_id == bindparam("run_id", type_=runs.c.run_id.type)),
            dialect,
            ("run_id",),
        )
        self.add_run_key = compile_positional(
            insert_ignore(name, run_keys).inline(), dialect, ("run_id",), ("run_id",)
        )
        self.begin = "BEGIN IMMEDIATE" if name == "sqlite" else None
        # On PostgreSQL a point is logged in one autocommitted statement.
        self.log_plain_point_at_once: str | None = None
        self.log_full_point_at_once: str | None = None
        if name == "postgresql":
            self.log_plain_point_at_once = compile_positional(
                log_point_at_once(name, POINT), dialect, (*POINT, "run_id", "run_id")
            )
            self.log_full_point_at_once = compile_positional(
                log_point_at_once(name, FULL_POINT),
                dialect,
                (*FULL_POINT, "run_id", "run_id"),
            )

    def insert_rows(self, run_key: int, plain: bool) -> str:
        """The batch insert for one run: rows in PLAIN_ROW order when
        ``plain`` (no NaN, model or dataset), else in FULL_POINT order.

        The key is written into the SQL text rather than bound with every
        row: it is an integer the database handed out, never caller input.
        """
        sql = self._insert_plain_rows if plain else self._insert_full_rows
        return sql.replace(_RUN_KEY_MARK, str(int(run_key)))
