from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kiln.entities import Metric, Param, RunStatus, RunTag
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.store import SqlStore

INF = float("inf")
NAN = float("nan")


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.create_run("0", "u", 1, [], "r").info.run_id


def _latest(store: SqlStore, run_id: str) -> dict[str, Metric]:
    return {m.key: m for m in store.get_run(run_id).data.latest_metrics}


def _history_values(store: SqlStore, run_id: str, key: str) -> list[float]:
    return [m.value for m in store.get_metric_history(run_id, key)]


def test_log_param_same_value_again_succeeds(store: SqlStore, run_id: str) -> None:
    store.log_param(run_id, Param("lr", "0.1"))
    store.log_param(run_id, Param("lr", "0.1"))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_log_param_different_value_names_both(store: SqlStore, run_id: str) -> None:
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(InvalidParameterValue, match=r"'0\.1'.*'0\.2'"):
        store.log_param(run_id, Param("lr", "0.2"))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_log_batch_param_conflict_with_stored_value_changes_nothing(
    store: SqlStore, run_id: str
) -> None:
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(InvalidParameterValue, match=r"'0\.3'"):
        store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 1, 0)],
            params=[Param("new", "x"), Param("lr", "0.3")],
            tags=[RunTag("t", "v")],
        )
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert "t" not in run.data.tags
    assert run.data.latest_metrics == ()
    assert store.get_metric_history(run_id, "m") == []


def test_log_batch_param_conflict_inside_batch(store: SqlStore, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id, params=[Param("a", "1"), Param("a", "2")])
    assert store.get_run(run_id).data.params == {}


@pytest.mark.parametrize(
    "bad",
    [
        {"metrics": [Metric("ok", 1.0, 1, 0), Metric("bad/../key", 1.0, 1, 0)]},
        {"metrics": [Metric("ok", 1.0, 1, 0), Metric("m", 1.0, -1, 0)]},
        {"metrics": [Metric("m", "1.0", 1, 0)]},  # type: ignore[arg-type]
        {"metrics": [Metric("m", True, 1, 0)]},
        {"params": [Param("p", "v" * 6001)]},
        {"tags": [RunTag("t", "v" * 8001)]},
        {"metrics": [Metric("m", 1.0, 1, i) for i in range(1001)]},
    ],
)
def test_log_batch_refuses_bad_input_and_stores_nothing(
    store: SqlStore, run_id: str, bad: dict[str, list[object]]
) -> None:
    before = store.get_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id, **bad)  # type: ignore[arg-type]
    assert store.get_run(run_id) == before
    assert store.get_metric_history(run_id, "ok") == []


def test_log_batch_stores_everything(store: SqlStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 10 + i, i) for i in range(5)],
        params=[Param("p", "1"), Param("q", "2")],
        tags=[RunTag("t", "v"), RunTag("mlflow.runName", "batch-name")],
    )
    run = store.get_run(run_id)
    assert run.data.params == {"p": "1", "q": "2"}
    assert run.data.tags["t"] == "v"
    assert run.info.run_name == "batch-name"
    assert run.data.metrics == {"m": 4.0}
    assert _history_values(store, run_id, "m") == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_identical_point_is_stored_once(store: SqlStore, run_id: str) -> None:
    point = Metric("m", 1.5, 100, 3)
    store.log_metric(run_id, point)
    store.log_metric(run_id, point)
    store.log_batch(run_id, metrics=[point, point])
    assert len(store.get_metric_history(run_id, "m")) == 1


def test_same_step_different_values_are_both_kept(store: SqlStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 100, 0))
    store.log_metric(run_id, Metric("m", 2.0, 100, 0))
    assert _history_values(store, run_id, "m") == [1.0, 2.0]
    assert _latest(store, run_id)["m"].value == 2.0


@pytest.mark.parametrize("value", [INF, -INF, 1e308, -0.0, 5e-324])
def test_extreme_values_round_trip(store: SqlStore, run_id: str, value: float) -> None:
    store.log_metric(run_id, Metric("m", value, 1, 0))
    store.log_batch(run_id, metrics=[Metric("b", value, 1, 0)])
    for key in ("m", "b"):
        (point,) = store.get_metric_history(run_id, key)
        assert point.value == value
        assert _latest(store, run_id)[key].value == value
        assert _latest(store, run_id)[key].timestamp == 1


def test_nan_round_trips(store: SqlStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", NAN, 1, 0))
    store.log_batch(run_id, metrics=[Metric("b", NAN, 1, 0)])
    for key in ("m", "b"):
        (point,) = store.get_metric_history(run_id, key)
        assert math.isnan(point.value)
        assert math.isnan(_latest(store, run_id)[key].value)


@pytest.mark.parametrize(
    "value",
    [np.float64(0.5), np.float64(-2), np.float64("nan"), 0.0, 7],
    ids=repr,
)
def test_numpy_and_int_values_are_stored_as_plain_floats(
    store: SqlStore, run_id: str, value: object
) -> None:
    expected = float(value)  # type: ignore[arg-type]
    store.log_metric(run_id, Metric("m", value, 1, 0))  # type: ignore[arg-type]
    store.log_batch(run_id, metrics=[Metric("b", value, 1, 0)])  # type: ignore[arg-type]
    for key in ("m", "b"):
        (point,) = store.get_metric_history(run_id, key)
        latest = _latest(store, run_id)[key]
        for stored in (point.value, latest.value):
            assert type(stored) is float
            assert stored == expected or (math.isnan(stored) and math.isnan(expected))
    # The NaN flag is a true boolean: a NaN matches no ordering comparison.
    found = store.search_runs(["0"], "metrics.b < 1e300")
    assert len(found) == (0 if math.isnan(expected) else 1)


def test_nan_and_zero_at_the_same_point_are_distinct(
    store: SqlStore, run_id: str
) -> None:
    store.log_metric(run_id, Metric("m", NAN, 1, 0))
    store.log_metric(run_id, Metric("m", 0.0, 1, 0))
    values = _history_values(store, run_id, "m")
    assert len(values) == 2
    # At an equal step and timestamp a number is later than NaN.
    assert _latest(store, run_id)["m"].value == 0.0


@pytest.mark.parametrize("batch", [False, True])
def test_latest_metric_is_highest_step_then_timestamp_then_value(
    store: SqlStore, run_id: str, batch: bool
) -> None:
    points = [
        Metric("m", 5.0, 200, 1),
        Metric("m", 1.0, 100, 2),  # higher step wins over later timestamp
        Metric("m", 0.5, 50, 0),
        Metric("m", 2.0, 150, 2),  # same step, later timestamp wins
        Metric("m", 1.5, 150, 2),  # same step and timestamp, higher value wins
        Metric("m", NAN, 150, 2),
    ]
    if batch:
        store.log_batch(run_id, metrics=points)
    else:
        for point in points:
            store.log_metric(run_id, point)
    latest = _latest(store, run_id)["m"]
    assert (latest.value, latest.timestamp, latest.step) == (2.0, 150, 2)


def test_nan_at_a_later_step_becomes_latest(store: SqlStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    store.log_metric(run_id, Metric("m", NAN, 1, 1))
    assert math.isnan(_latest(store, run_id)["m"].value)


def test_logging_to_a_finished_run_is_allowed(store: SqlStore, run_id: str) -> None:
    store.update_run_info(run_id, RunStatus.FINISHED, 10, None)
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    store.log_param(run_id, Param("p", "v"))
    store.set_tag(run_id, RunTag("t", "v"))
    assert store.get_run(run_id).data.metrics == {"m": 1.0}


def test_logging_to_a_deleted_run_is_refused(store: SqlStore, run_id: str) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    store.delete_run(run_id)
    calls = [
        lambda: store.log_metric(run_id, Metric("m", 2.0, 2, 1)),
        lambda: store.log_metric(run_id, Metric("m", 1.0, 1, 0)),  # a repeat
        lambda: store.log_param(run_id, Param("p", "v")),
        lambda: store.log_batch(run_id, metrics=[Metric("m", 3.0, 3, 2)]),
        lambda: store.log_batch(
            run_id, metrics=[Metric("m", 4.0, 4, 3)], params=[Param("p", "v")]
        ),
        lambda: store.log_batch(run_id, tags=[RunTag("t", "v")]),
    ]
    for call in calls:
        with pytest.raises(InvalidParameterValue, match="active"):
            call()
    store.restore_run(run_id)
    assert _history_values(store, run_id, "m") == [1.0]
    assert store.get_run(run_id).data.params == {}
    assert "t" not in store.get_run(run_id).data.tags


def test_logging_to_an_unknown_run_is_not_found(store: SqlStore) -> None:
    missing = "a" * 32
    with pytest.raises(ResourceDoesNotExist):
        store.log_metric(missing, Metric("m", 1.0, 1, 0))
    with pytest.raises(ResourceDoesNotExist):
        store.log_param(missing, Param("p", "v"))
    with pytest.raises(ResourceDoesNotExist):
        store.log_batch(missing, tags=[RunTag("t", "v")])


@pytest.mark.parametrize(
    "metric",
    [
        Metric("", 1.0, 1, 0),
        Metric("a/../b", 1.0, 1, 0),
        Metric("m", 1.0, -5, 0),
        Metric("m", 1.0, 1, 2**63),
        Metric("m", 1.0, 1.5, 0),  # type: ignore[arg-type]
        Metric("m", None, 1, 0),  # type: ignore[arg-type]
    ],
)
def test_log_metric_refuses_bad_points(
    store: SqlStore, run_id: str, metric: Metric
) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))  # makes the key known
    with pytest.raises(InvalidParameterValue):
        store.log_metric(run_id, metric)
    assert _history_values(store, run_id, "m") == [1.0]


def test_log_metric_keeps_model_and_dataset(store: SqlStore, run_id: str) -> None:
    store.log_metric(
        run_id,
        Metric("m", 1.0, 1, 0, model_id="m-1", dataset_name="d", dataset_digest="x"),
    )
    (point,) = store.get_metric_history(run_id, "m")
    assert (point.model_id, point.dataset_name, point.dataset_digest) == (
        "m-1",
        "d",
        "x",
    )
    assert point.run_id == run_id


def test_threads_logging_at_once_lose_nothing(store: SqlStore, run_id: str) -> None:
    def log(thread: int) -> None:
        for step in range(100):
            store.log_metric(run_id, Metric(f"t{thread}", float(step), 1, step))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(log, range(4)))
    for thread in range(4):
        history = store.get_metric_history(run_id, f"t{thread}")
        assert [m.step for m in history] == list(range(100))
    assert _latest(store, run_id)["t0"].step == 99


def test_a_run_deleted_by_another_store_refuses_logs_at_once(
    store: SqlStore, run_id: str, db_uri: str, artifact_root: str
) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    other = SqlStore(db_uri, artifact_root)  # another process, in effect
    try:
        other.delete_run(run_id)
    finally:
        other.close()
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_metric(run_id, Metric("m", 2.0, 2, 1))


def test_log_batch_keeps_model_and_dataset_of_some_points(
    store: SqlStore, run_id: str
) -> None:
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 1.0, 1, 0),
            Metric(
                "m", NAN, 1, 1, model_id="m-1", dataset_name="d", dataset_digest="x"
            ),
        ],
    )
    first, second = store.get_metric_history(run_id, "m")
    assert (first.model_id, first.dataset_name, first.dataset_digest) == (None,) * 3
    assert (second.model_id, second.dataset_name, second.dataset_digest) == (
        "m-1",
        "d",
        "x",
    )
    assert math.isnan(second.value) and math.isnan(_latest(store, run_id)["m"].value)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_logs_through_connections_of_its_own(
    store: SqlStore, run_id: str
) -> None:
    store.log_metric(run_id, Metric("m", 1.0, 1, 0))  # the parent holds connections
    store.get_run(run_id)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            store.log_metric(run_id, Metric("m", 2.0, 2, 1))
            store.log_batch(run_id, metrics=[Metric("m", 3.0, 3, 2)])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.log_metric(run_id, Metric("m", 4.0, 4, 3))
    assert _history_values(store, run_id, "m") == [1.0, 2.0, 3.0, 4.0]
