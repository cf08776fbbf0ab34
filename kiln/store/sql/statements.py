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
    exists,
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
from kiln.store.sql.schema import latest_metrics, metrics, runs

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
    """INSERT of one point's ``columns`` that lands only while the run is active.

    Folding the run's state into the insert saves a statement per logged
    point; when no row lands the caller finds out why. The run id is bound
    twice: as a column and in the check.
    """
    point = select(*[bindparam(c, type_=metrics.c[c].type) for c in columns]).where(
        exists().where(
            runs.c.run_id == bindparam("run_id", type_=runs.c.run_id.type),
            runs.c.lifecycle_stage == literal_column(f"'{LifecycleStage.ACTIVE}'"),
        )
    )
    stmt = dialect_insert(dialect_name, metrics).from_select(list(columns), point)
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
        .returning(*[metrics.c[c] for c in PLAIN_POINT])
        .cte("point")
    )
    latest = upsert_latest_metric(dialect_name).from_select(
        list(PLAIN_POINT), select(*[point.c[c] for c in PLAIN_POINT])
    )
    return select(func.count()).select_from(point).add_cte(latest.cte("latest"))


# Positional parameter order of the batch inserts: a point without model or
# dataset, and a full one.
PLAIN_POINT = ("run_id", "key", "step", "timestamp", "value", "is_nan")
FULL_POINT = (*PLAIN_POINT, "model_id", "dataset_name", "dataset_digest")


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


class MetricStatements:
    """The hot-path SQL of metric logging, compiled once per store."""

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
        ignore = insert_ignore(name, metrics)
        self.insert_plain_points = compile_positional(
            ignore, dialect, PLAIN_POINT, PLAIN_POINT
        )
        self.insert_full_points = compile_positional(
            ignore, dialect, FULL_POINT, FULL_POINT
        )
        self.insert_plain_point_if_active = compile_positional(
            insert_metric_if_active(name, PLAIN_POINT),
            dialect,
            (*PLAIN_POINT, "run_id"),
        )
        self.insert_full_point_if_active = compile_positional(
            insert_metric_if_active(name, FULL_POINT), dialect, (*FULL_POINT, "run_id")
        )
        self.upsert_latest_point = compile_positional(
            upsert_latest_metric(name), dialect, PLAIN_POINT, PLAIN_POINT
        )
        self.select_run_stage = compile_sql(
            select(runs.c.lifecycle_stage).where(runs.c.run_id == bindparam("run_id")),
            dialect,
        )
        self.begin = "BEGIN IMMEDIATE" if name == "sqlite" else None
        # On PostgreSQL a point is logged in one autocommitted statement.
        self.log_plain_point_at_once: str | None = None
        self.log_full_point_at_once: str | None = None
        if name == "postgresql":
            self.log_plain_point_at_once = compile_positional(
                log_point_at_once(name, PLAIN_POINT), dialect, (*PLAIN_POINT, "run_id")
            )
            self.log_full_point_at_once = compile_positional(
                log_point_at_once(name, FULL_POINT), dialect, (*FULL_POINT, "run_id")
            )
