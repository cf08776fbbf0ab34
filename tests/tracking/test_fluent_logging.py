from __future__ import annotations

import numpy as np
import pytest

import kiln
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.tracking.client import KilnClient


def test_params_metrics_and_tags(client: KilnClient) -> None:
    with kiln.start_run() as run:
        assert kiln.log_param("lr", 0.01) == 0.01
        kiln.log_params({"layers": 3, "act": "relu"})
        kiln.log_metric("loss", 0.5, step=1, timestamp=1000)
        kiln.log_metric("loss", 0.25, step=2, timestamp=2000)
        kiln.log_metrics({"acc": 0.9, "f1": np.float64(0.8)}, step=2)
        kiln.set_tag("stage", "dev")
        kiln.set_tags({"team": "ml", "n": 1})
        kiln.delete_tag("team")
    stored = client.get_run(run.info.run_id)
    assert stored.data.params == {"lr": "0.01", "layers": "3", "act": "relu"}
    assert stored.data.metrics == {"loss": 0.25, "acc": 0.9, "f1": 0.8}
    assert stored.data.tags["stage"] == "dev"
    assert stored.data.tags["n"] == "1"
    assert "team" not in stored.data.tags
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(p.step, p.timestamp, p.value) for p in history] == [
        (1, 1000, 0.5),
        (2, 2000, 0.25),
    ]
    (acc,) = client.get_metric_history(run.info.run_id, "acc")
    (f1,) = client.get_metric_history(run.info.run_id, "f1")
    assert acc.step == f1.step == 2 and acc.timestamp == f1.timestamp


def test_log_metric_defaults(client: KilnClient) -> None:
    with kiln.start_run() as run:
        kiln.log_metric("m", 1)
    (point,) = client.get_metric_history(run.info.run_id, "m")
    assert point.step == 0 and point.value == 1.0
    assert point.timestamp >= run.info.start_time  # type: ignore[operator]


def test_logging_to_an_explicit_run(client: KilnClient) -> None:
    other = client.create_run("0").info.run_id
    with kiln.start_run() as run:
        kiln.log_metric("m", 1.0, run_id=other)
        kiln.log_param("p", "x", run_id=other)
        kiln.set_tag("t", "y", run_id=other)
    assert client.get_run(other).data.metrics == {"m": 1.0}
    assert client.get_run(other).data.params == {"p": "x"}
    assert client.get_run(run.info.run_id).data.metrics == {}


def test_many_params_are_logged_in_several_batches(client: KilnClient) -> None:
    with kiln.start_run() as run:
        kiln.log_params({f"p{i}": i for i in range(250)})
        kiln.log_metrics({f"m{i}": i for i in range(1500)})
    stored = client.get_run(run.info.run_id)
    assert len(stored.data.params) == 250
    assert len(stored.data.metrics) == 1500


@pytest.mark.parametrize("value", ["high", True, None])
def test_bad_metric_values_are_refused(value: object) -> None:
    with kiln.start_run(), pytest.raises(InvalidParameterValue, match="'m'"):
        kiln.log_metric("m", value)  # type: ignore[arg-type]


def test_bad_key_is_refused_by_the_store() -> None:
    with kiln.start_run(), pytest.raises(InvalidParameterValue, match=r"a/\.\./b"):
        kiln.log_metric("a/../b", 1.0)


def test_deleting_missing_tag_is_reported() -> None:
    with kiln.start_run(), pytest.raises(ResourceDoesNotExist):
        kiln.delete_tag("never-set")
