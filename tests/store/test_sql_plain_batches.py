"""Batches of plain points: the quick check, the rows it yields, and what the
store makes of them (the path every batch after a run's first one takes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import text

from kiln.entities import Metric, Param
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.metric_rows import plain_rows, plain_rows_from_json
from kiln.store.sql.store import SqlStore
from kiln.validation import MAX_BATCH_METRICS

INF = float("inf")
NAN = float("nan")
KNOWN = {"a", "b"}


def _json(
    key: object = "a", value: object = 1.5, timestamp: object = 10, step: object = 2
) -> dict[str, object]:
    return {"key": key, "value": value, "timestamp": timestamp, "step": step}


def test_plain_points_become_rows_of_their_fields() -> None:
    points = [
        Metric("a", 1.5, 10, 2),
        Metric("b", INF, 11, -3),
        Metric("a", -INF, 0, 0),
    ]
    rows = plain_rows(points, KNOWN)
    assert rows is not None and rows.plain
    assert rows.rows == [("a", 2, 10, 1.5), ("b", -3, 11, INF), ("a", 0, 0, -INF)]
    assert rows.keys == {"a", "b"}


@pytest.mark.parametrize(
    "point",
    [
        Metric("new", 1.0, 1, 0),  # a key not validated yet
        Metric("a", NAN, 1, 0),
        Metric("a", 1, 1, 0),  # type: ignore[arg-type]
        Metric("a", np.float64(1.0), 1, 0),
        Metric("a", 1.0, -1, 0),
        Metric("a", 1.0, 1, 2**63),
        Metric("a", 1.0, 1.0, 0),  # type: ignore[arg-type]
        Metric("a", 1.0, 1, 0, model_id="m-1"),
        Metric("a", 1.0, 1, 0, dataset_name="d"),
    ],
    ids=repr,
)
def test_any_other_point_sends_the_batch_the_long_way(point: Metric) -> None:
    assert plain_rows([Metric("a", 1.0, 1, 0), point], KNOWN) is None


def test_empty_and_oversized_batches_take_the_long_way() -> None:
    assert plain_rows([], KNOWN) is None
    too_many = [Metric("a", 1.0, 1, i) for i in range(MAX_BATCH_METRICS + 1)]
    assert plain_rows(too_many, KNOWN) is None
    assert plain_rows(too_many[:MAX_BATCH_METRICS], KNOWN) is not None


def test_json_points_become_rows_straight_from_the_body() -> None:
    rows = plain_rows_from_json([_json(), _json("b", -INF, 0, -1)], KNOWN)
    assert rows is not None
    assert rows.rows == [("a", 2, 10, 1.5), ("b", -1, 0, -INF)]


@pytest.mark.parametrize(
    "points",
    [
        None,
        {"key": "a"},
        [],
        ["a"],
        [{"key": "a", "value": 1.5, "timestamp": 10}],  # step left out
        [{**_json(), "model_id": "m-1"}],
        [{**_json(), "run_id": "r"}],
        [_json(key=["a"])],
        [_json(key="new")],
        [_json(value=1)],
        [_json(value="NaN")],
        [_json(timestamp="10")],
        [_json(step=True)],
        [_json(step=-(2**63) - 1)],
    ],
    ids=repr,
)
def test_json_points_of_any_other_shape_take_the_long_way(points: object) -> None:
    assert plain_rows_from_json(points, KNOWN) is None


@pytest.fixture
def warm(store: SqlStore) -> str:
    """A run, after a first batch that taught the store the keys a and b."""
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.log_batch(
        run_id, metrics=[Metric("a", 0.0, 0, -100), Metric("b", 0.0, 0, -100)]
    )
    return run_id


def _latest(store: SqlStore, run_id: str) -> dict[str, tuple[float, int, int]]:
    return {
        m.key: (m.value, m.timestamp, m.step)
        for m in store.get_run(run_id).data.latest_metrics
    }


def test_plain_batches_store_an_identical_point_once(
    store: SqlStore, warm: str
) -> None:
    point = Metric("a", 1.5, 100, 3)
    store.log_batch(warm, metrics=[point, point])
    store.log_batch(warm, metrics=[point])
    assert [m.step for m in store.get_metric_history(warm, "a")] == [-100, 3]


def test_plain_batches_move_the_latest_value_in_order(
    store: SqlStore, warm: str
) -> None:
    store.log_batch(
        warm,
        metrics=[
            Metric("a", 5.0, 200, 1),
            Metric("a", 1.0, 100, 2),  # a higher step wins over a later time
            Metric("a", 2.0, 150, 2),  # the same step, a later timestamp wins
            Metric("a", 1.5, 150, 2),  # the same step and time: higher value
            Metric("b", -INF, 7, 9),
        ],
    )
    assert _latest(store, warm) == {"a": (2.0, 150, 2), "b": (-INF, 7, 9)}
    # A later batch of earlier points leaves the latest values as they are.
    store.log_batch(warm, metrics=[Metric("a", 9.0, 999, 1), Metric("b", 9.0, 7, 8)])
    assert _latest(store, warm) == {"a": (2.0, 150, 2), "b": (-INF, 7, 9)}


def test_a_number_beats_nan_logged_earlier_at_the_same_point(
    store: SqlStore, warm: str
) -> None:
    store.log_batch(warm, metrics=[Metric("a", NAN, 5, 5)])
    store.log_batch(warm, metrics=[Metric("a", -3.0, 5, 5)])
    assert _latest(store, warm)["a"] == (-3.0, 5, 5)
    values = [m.value for m in store.get_metric_history(warm, "a")]
    assert values[1] == -3.0 and math.isnan(values[2])


def test_a_plain_batch_to_a_deleted_run_stores_nothing(
    store: SqlStore, warm: str
) -> None:
    store.delete_run(warm)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_batch(warm, metrics=[Metric("a", 1.0, 1, 1)])
    store.restore_run(warm)
    assert len(store.get_metric_history(warm, "a")) == 1
    with pytest.raises(ResourceDoesNotExist):
        store.log_batch("f" * 32, metrics=[Metric("a", 1.0, 1, 1)])


def test_log_metrics_json_logs_plain_points_only(store: SqlStore, warm: str) -> None:
    assert store.log_metrics_json(warm, [_json(), _json("b", 2.5, 11, 3)])
    assert _latest(store, warm) == {"a": (1.5, 10, 2), "b": (2.5, 11, 3)}
    # Anything else is left to log_batch, untouched.
    assert not store.log_metrics_json(warm, [_json(), _json(value="NaN")])
    assert len(store.get_metric_history(warm, "a")) == 2
    with pytest.raises(InvalidParameterValue):
        store.log_metrics_json("not a run id!", [_json()])


def test_a_batch_with_params_takes_the_long_way_and_keeps_everything(
    store: SqlStore, warm: str
) -> None:
    store.log_batch(warm, metrics=[Metric("a", 4.0, 4, 4)], params=[Param("p", "1")])
    assert store.get_run(warm).data.params == {"p": "1"}
    assert _latest(store, warm)["a"] == (4.0, 4, 4)


def test_a_run_gets_one_key_and_loses_its_points_with_it(
    store: SqlStore, db_uri: str
) -> None:
    first = store.create_run("0", "u", 1, [], "r").info.run_id
    other = store.create_run("0", "u", 1, [], "r").info.run_id
    store.log_metric(first, Metric("a", 1.0, 1, 1))
    store.log_batch(first, metrics=[Metric("a", 2.0, 2, 2)])
    store.log_batch(other, metrics=[Metric("a", 3.0, 3, 3)])
    engine = create_db_engine(db_uri)
    try:
        with engine.begin() as connection:
            keys = connection.execute(text("SELECT run_id FROM run_keys")).scalars()
            assert sorted(keys) == sorted([first, other])
            # Deleting a run (as an administrator might) takes its points along.
            connection.execute(text("DELETE FROM runs WHERE run_id = :r"), {"r": first})
            left = connection.execute(text("SELECT count(*) FROM metrics")).scalar()
            assert left == 1
    finally:
        engine.dispose()
