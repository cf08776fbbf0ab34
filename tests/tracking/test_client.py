from __future__ import annotations

import math
import time

import numpy as np
import pytest

from kiln.entities import LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType
from kiln.errors import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.tracking.client import KilnClient


def test_client_defaults_to_current_tracking_uri(tracking_uri: str) -> None:
    assert KilnClient().tracking_uri == tracking_uri


def test_experiment_lifecycle(client: KilnClient) -> None:
    experiment_id = client.create_experiment("exp", tags={"team": "vision", "n": 3})
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == "exp"
    assert experiment.tags == {"team": "vision", "n": "3"}
    assert client.get_experiment_by_name("exp") == experiment
    assert client.get_experiment_by_name("missing") is None

    client.rename_experiment(experiment_id, "renamed")
    client.set_experiment_tag(experiment_id, "stage", 2)
    client.delete_experiment_tag(experiment_id, "team")
    renamed = client.get_experiment(experiment_id)
    assert (renamed.name, renamed.tags) == ("renamed", {"n": "3", "stage": "2"})

    client.delete_experiment(experiment_id)
    assert (
        client.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED
    )
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE


def test_duplicate_experiment_name_is_refused(client: KilnClient) -> None:
    client.create_experiment("exp")
    with pytest.raises(ResourceAlreadyExists):
        client.create_experiment("exp")


def test_search_experiments_pages(client: KilnClient) -> None:
    for name in ("a", "b", "c"):
        client.create_experiment(name)
    first = client.search_experiments(max_results=2, order_by=["name ASC"])
    second = client.search_experiments(
        max_results=2, order_by=["name ASC"], page_token=first.token
    )
    names = [e.name for e in first + second]
    assert names == ["Default", "a", "b", "c"]
    assert second.token is None
    assert [e.name for e in client.search_experiments(filter_string="name = 'b'")] == [
        "b"
    ]


def test_create_run_sets_user_name_and_start_time(client: KilnClient) -> None:
    run = client.create_run("0", start_time=1234, run_name="first", tags={"k": 1})
    assert run.info.status == RunStatus.RUNNING
    assert run.info.run_name == "first"
    assert run.info.start_time == 1234
    assert run.info.user_id
    assert run.data.tags["mlflow.runName"] == "first"
    assert run.data.tags["k"] == "1"


def test_create_run_takes_user_and_name_from_tags(client: KilnClient) -> None:
    tags = {"mlflow.user": "alice", "mlflow.runName": "tagged"}
    run = client.create_run("0", tags=tags)
    assert (run.info.user_id, run.info.run_name) == ("alice", "tagged")


def test_create_run_without_name_gets_one(client: KilnClient) -> None:
    before = int(time.time() * 1000)
    run = client.create_run("0")
    assert run.info.run_name
    assert run.data.tags["mlflow.runName"] == run.info.run_name
    assert run.info.start_time is not None and run.info.start_time >= before


def test_update_and_terminate_run(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.update_run(run_id, name="better")
    client.set_terminated(run_id, RunStatus.KILLED, end_time=99)
    info = client.get_run(run_id).info
    assert (info.run_name, info.status, info.end_time) == ("better", "KILLED", 99)
    assert client.get_run(run_id).data.tags["mlflow.runName"] == "better"


def test_delete_and_restore_run(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    assert client.search_runs("0") == []
    deleted = client.search_runs(["0"], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs("0")] == [run_id]


def test_search_runs_filters_orders_and_pages(client: KilnClient) -> None:
    ids = []
    for loss in (0.3, 0.1, 0.2):
        run_id = client.create_run("0").info.run_id
        client.log_metric(run_id, "loss", loss)
        ids.append(run_id)
    page = client.search_runs("0", "metrics.loss < 0.25", order_by=["metrics.loss"])
    assert [r.info.run_id for r in page] == [ids[1], ids[2]]
    first = client.search_runs("0", max_results=2)
    rest = client.search_runs("0", max_results=2, page_token=first.token)
    assert len(first) == 2 and len(rest) == 1 and rest.token is None


def test_unknown_run_is_reported(client: KilnClient) -> None:
    with pytest.raises(ResourceDoesNotExist):
        client.get_run("0" * 32)


def test_values_are_converted_like_mlflow(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    assert client.log_param(run_id, "layers", [1, 2]) == [1, 2]
    client.log_metric(run_id, "np", np.float32(0.5), step=np.int64(3))
    client.log_metric(run_id, "int", 7)
    client.set_tag(run_id, "flag", True)
    run = client.get_run(run_id)
    assert run.data.params == {"layers": "[1, 2]"}
    assert run.data.metrics == {"np": 0.5, "int": 7.0}
    assert run.data.tags["flag"] == "True"
    (point,) = client.get_metric_history(run_id, "np")
    assert point.step == 3 and isinstance(point.value, float)


@pytest.mark.parametrize("value", [True, "1.5", None, b"1", object()])
def test_non_numeric_metric_is_refused(client: KilnClient, value: object) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidParameterValue, match="must be a number"):
        client.log_metric(run_id, "m", value)  # type: ignore[arg-type]


def test_changing_a_param_is_refused(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", 0.1)
    client.log_param(run_id, "lr", "0.1")
    with pytest.raises(InvalidParameterValue):
        client.log_param(run_id, "lr", 0.2)


def test_delete_tag(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.set_tag(run_id, "t", "v")
    client.delete_tag(run_id, "t")
    assert "t" not in client.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist):
        client.delete_tag(run_id, "t")


def test_log_batch_beyond_limits_is_split(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run = client.get_run(run_id)
    assert len(run.data.params) == 250
    assert sum(key.startswith("t") for key in run.data.tags) == 150
    history = client.get_metric_history(run_id, "m")
    assert [p.step for p in history] == list(range(2500))


def test_empty_log_batch_does_nothing(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_batch(run_id)
    assert client.get_run(run_id).data.params == {}


def test_metric_history_reads_every_point_in_order(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    points = [Metric("m", i / 2, 5, i) for i in range(30)]
    points[7] = Metric("m", float("nan"), 5, 7)
    client.log_batch(run_id, metrics=points[::-1])
    history = client.get_metric_history(run_id, "m")
    assert all(type(point) is Metric and point.run_id == run_id for point in history)
    assert [p.step for p in history] == list(range(30))
    assert math.isnan(history[7].value)
    assert [p.value for p in history[8:]] == [i / 2 for i in range(8, 30)]
