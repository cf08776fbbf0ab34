"""Migration 0005: points move from the run id to the run's integer key and back."""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import text

from kiln.entities import Metric
from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.migrate import upgrade
from kiln.store.sql.store import SqlStore

from .migrating import fresh_uri, migrate_to

# pytest finds the fixture imported above by name.
__all__ = ["fresh_uri"]

_RUN_WITH_POINTS = "a" * 32
_RUN_WITHOUT_POINTS = "b" * 32

# (key, step, timestamp, value, is_nan, model_id) as revision 0004 stored them.
_OLD_POINTS = [
    ("loss", 0, 100, 0.5, False, None),
    ("loss", 1, 101, 0.0, True, None),
    ("loss", 2, 102, math.inf, False, None),
    ("acc", 0, 100, 0.25, False, "m-1"),
]


def _seed_revision_0004(uri: str) -> None:
    engine = create_db_engine(uri)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO experiments (name, artifact_location, "
                    "lifecycle_stage) VALUES ('old', '/tmp/old', 'active')"
                )
            )
            experiment_id = connection.execute(
                text("SELECT experiment_id FROM experiments WHERE name = 'old'")
            ).scalar_one()
            for run_id in (_RUN_WITH_POINTS, _RUN_WITHOUT_POINTS):
                connection.execute(
                    text(
                        "INSERT INTO runs (run_id, experiment_id, run_name, user_id, "
                        "status, artifact_uri, lifecycle_stage) VALUES (:run_id, "
                        ":experiment_id, 'r', 'u', 'RUNNING', '/tmp/a', 'active')"
                    ),
                    {"run_id": run_id, "experiment_id": experiment_id},
                )
            for key, step, timestamp, value, is_nan, model_id in _OLD_POINTS:
                connection.execute(
                    text(
                        "INSERT INTO metrics (run_id, key, step, timestamp, value, "
                        "is_nan, model_id) VALUES (:run_id, :key, :step, "
                        ":timestamp, :value, :is_nan, :model_id)"
                    ),
                    {
                        "run_id": _RUN_WITH_POINTS,
                        "key": key,
                        "step": step,
                        "timestamp": timestamp,
                        "value": value,
                        "is_nan": is_nan,
                        "model_id": model_id,
                    },
                )
    finally:
        engine.dispose()


def _old_points(uri: str) -> list[tuple[object, ...]]:
    engine = create_db_engine(uri)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT run_id, key, step, timestamp, value, is_nan, model_id "
                    "FROM metrics ORDER BY run_id, key, step"
                )
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def test_upgrade_keeps_every_point_and_downgrade_restores_them(
    fresh_uri: str, tmp_path: Path
) -> None:
    migrate_to(fresh_uri, "0004")
    _seed_revision_0004(fresh_uri)
    upgrade(fresh_uri)

    store = SqlStore(fresh_uri, str(tmp_path / "artifacts"))
    try:
        loss = store.get_metric_history(_RUN_WITH_POINTS, "loss")
        assert [m.step for m in loss] == [0, 1, 2]
        assert loss[0].value == 0.5
        assert math.isnan(loss[1].value)
        assert loss[2].value == math.inf
        (acc,) = store.get_metric_history(_RUN_WITH_POINTS, "acc")
        assert (acc.value, acc.model_id) == (0.25, "m-1")
        # Both runs log on: the one with points under its migrated key, the
        # other under a key made now.
        for run_id in (_RUN_WITH_POINTS, _RUN_WITHOUT_POINTS):
            store.log_batch(run_id, metrics=[Metric("loss", 2.5, 200, 3)])
            store.log_metric(run_id, Metric("loss", 3.5, 201, 4))
        history = store.get_metric_history(_RUN_WITHOUT_POINTS, "loss")
        assert [(m.step, m.value) for m in history] == [(3, 2.5), (4, 3.5)]
        assert len(store.get_metric_history(_RUN_WITH_POINTS, "loss")) == 5
    finally:
        store.close()

    migrate_to(fresh_uri, "0004", down=True)
    restored = _old_points(fresh_uri)
    assert len(restored) == 4 + 2 + 2
    assert {row[0] for row in restored} == {_RUN_WITH_POINTS, _RUN_WITHOUT_POINTS}
    assert (_RUN_WITH_POINTS, "acc", 0, 100, 0.25, False, "m-1") in [
        (row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])
        for row in restored
    ]
