"""Run searches over a thousand random runs agree with a plain Python reading
of the same filter and order, and SQLite reads metric filters through the
(key, value) index."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, insert, text

from kiln.entities import ViewType
from kiln.search.sql import select_run_ids
from kiln.store.sql.schema import experiments, latest_metrics, params, runs

RUN_COUNT = 1000


@dataclass
class FakeRun:
    run_id: str
    start_time: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _make_runs() -> list[FakeRun]:
    rnd = random.Random(7)
    made = []
    for number in range(RUN_COUNT):
        run = FakeRun(f"run{number:04d}", rnd.choice([None, *range(50)]))
        for key in ("acc", "loss"):
            roll = rnd.random()
            if roll < 0.1:
                continue  # this run never logged the metric
            run.metrics[key] = math.nan if roll < 0.2 else round(rnd.random(), 2)
        if rnd.random() < 0.9:
            run.params["lr"] = rnd.choice(["0.1", "0.01", "0.001"])
        made.append(run)
    return made


RUNS = _make_runs()


@pytest.fixture(scope="module")
def db(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(
            insert(experiments),
            [{"experiment_id": 1, "name": "e", "artifact_location": "/a"} | _ACTIVE],
        )
        conn.execute(
            insert(runs),
            [
                {
                    "run_id": r.run_id,
                    "experiment_id": 1,
                    "run_name": r.run_id,
                    "user_id": "u",
                    "status": "FINISHED",
                    "start_time": r.start_time,
                    "artifact_uri": "/a",
                }
                | _ACTIVE
                for r in RUNS
            ],
        )
        conn.execute(
            insert(latest_metrics),
            [
                {
                    "run_id": r.run_id,
                    "key": key,
                    "step": 0,
                    "timestamp": 0,
                    "value": 0.0 if math.isnan(value) else value,
                    "is_nan": math.isnan(value),
                }
                for r in RUNS
                for key, value in r.metrics.items()
            ],
        )
        conn.execute(
            insert(params),
            [
                {"run_id": r.run_id, "key": k, "value": v}
                for r in RUNS
                for k, v in r.params.items()
            ],
        )
        # Fresh statistics, as autovacuum (PostgreSQL) or PRAGMA optimize
        # (SQLite) keep them in a live database; without them PostgreSQL
        # guesses one row per table and nests loops.
        conn.execute(text("ANALYZE"))
    return engine


_ACTIVE = {"lifecycle_stage": "active"}


def _metric(run: FakeRun, key: str) -> float | None:
    return run.metrics.get(key)


def _default_key(run: FakeRun) -> tuple[bool, int, str]:
    # start_time DESC with missing last, then run_id ASC.
    missing = run.start_time is None
    return (missing, -(run.start_time or 0), run.run_id)


def _expected(
    keep: Callable[[FakeRun], bool], sort_metric: str | None, descending: bool
) -> list[str]:
    chosen = sorted((r for r in RUNS if keep(r)), key=_default_key)
    if sort_metric is not None:
        # Python's sort is stable, so the default order breaks ties.
        def key(run: FakeRun) -> tuple[bool, float]:
            value = run.metrics.get(sort_metric)
            if value is None or math.isnan(value):
                return (True, 0.0)
            return (False, -value if descending else value)

        chosen.sort(key=key)
    return [r.run_id for r in chosen]


def _gt(key: str, bound: float) -> Callable[[FakeRun], bool]:
    def keep(run: FakeRun) -> bool:
        value = _metric(run, key)
        return value is not None and value > bound  # NaN > x is False

    return keep


def _ne(key: str, bound: float) -> Callable[[FakeRun], bool]:
    def keep(run: FakeRun) -> bool:
        value = _metric(run, key)
        return value is not None and value != bound  # NaN != x is True

    return keep


CASES = [
    ("metrics.acc > 0.5", _gt("acc", 0.5), None, False),
    ("metrics.loss != 0.5", _ne("loss", 0.5), "acc", True),
    (
        "metrics.acc > 0.3 AND params.lr = '0.01'",
        lambda r: _gt("acc", 0.3)(r) and r.params.get("lr") == "0.01",
        "loss",
        False,
    ),
    (
        "params.lr IS NULL OR metrics.loss > 0.9",
        lambda r: "lr" not in r.params or _gt("loss", 0.9)(r),
        "loss",
        True,
    ),
    (None, lambda r: True, "acc", True),
]


@pytest.mark.parametrize(("filter_string", "keep", "sort_metric", "descending"), CASES)
def test_sql_agrees_with_python_on_random_runs(
    db: Engine,
    filter_string: str | None,
    keep: Callable[[FakeRun], bool],
    sort_metric: str | None,
    descending: bool,
) -> None:
    order_by = None
    if sort_metric is not None:
        order_by = [f"metrics.{sort_metric} {'DESC' if descending else 'ASC'}"]
    query = select_run_ids([1], filter_string, ViewType.ALL, order_by, 0, RUN_COUNT)
    with db.connect() as conn:
        found = list(conn.execute(query).scalars())
    assert found == _expected(keep, sort_metric, descending)


def test_sqlite_reads_a_metric_filter_through_the_key_value_index(db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    query = select_run_ids([1], "metrics.acc > 0.5", ViewType.ALL, None, 0, 10)
    sql = str(query.compile(db, compile_kwargs={"literal_binds": True}))
    with db.connect() as conn:
        plan = " | ".join(
            row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))
        )
    assert "ix_latest_metrics_key_value" in plan
    assert "SCAN latest_metrics" not in plan
