"""RestStore against real servers, MLflow's and Kiln's: every method, end to end.

Each server is started once per test session on a free port with a throwaway
SQLite database. Kiln's is ``python -m kiln.cli server``. MLflow's comes from
the stock MLflow environment found by the ``mlflow_executable`` fixture
(``tests/conftest.py``; ``scripts/install-mlflow`` creates it). Kiln never
imports mlflow: it lives in a separate environment.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from kiln.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.rest import RestConfig, RestStore

pytestmark = pytest.mark.slow

_START_TIMEOUT = 90.0
_MAX_DOUBLE = 1.7976931348623157e308


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).text.strip() == "OK":
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"The server did not answer /health:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The server runs uvicorn and a job runner as children: stop its group.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


class Server(NamedTuple):
    kind: str
    url: str


def _server_command(
    kind: str, root: Path, port: int, request: pytest.FixtureRequest
) -> list[str]:
    if kind == "kiln":
        return [
            sys.executable, "-m", "kiln.cli", "server",
            "--backend-store-uri", f"sqlite:///{root}/k.db",
            "--artifacts-destination", str(root / "a"),
            "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
    executable = request.getfixturevalue("mlflow_executable")
    return [
        executable, "server",
        "--backend-store-uri", f"sqlite:///{root}/m.db",
        "--default-artifact-root", str(root / "a"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


@pytest.fixture(scope="session", params=["mlflow", "kiln"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    kind: str = request.param
    root = tmp_path_factory.mktemp(f"{kind}-server")
    port = _free_port()
    command = _server_command(kind, root, port, request)
    log = root / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log)
        yield Server(kind, url)
    finally:
        _stop(process)


@pytest.fixture
def store(server: Server) -> Iterator[RestStore]:
    with RestStore(server.url, RestConfig(max_retries=2, backoff_factor=0.1)) as rest:
        yield rest


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _new_run(store: RestStore, experiment_id: str, name: str | None = None) -> str:
    run = store.create_run(experiment_id, "ada", int(time.time() * 1000), [], name)
    return run.info.run_id


def test_experiments_are_created_read_renamed_and_tagged(store: RestStore) -> None:
    name = _name("exp")
    experiment_id = store.create_experiment(name, tags=[RunTag("team", "risk")])

    experiment = store.get_experiment(experiment_id)
    assert experiment.name == name and experiment.tags == {"team": "risk"}
    assert experiment.lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_experiment_by_name(name) == experiment
    assert store.get_experiment_by_name(_name("absent")) is None

    with pytest.raises(ResourceAlreadyExists):
        store.create_experiment(name)
    with pytest.raises(ResourceDoesNotExist):
        store.get_experiment("987654321")

    store.rename_experiment(experiment_id, name + "-renamed")
    store.set_experiment_tag(experiment_id, RunTag("stage", "dev"))
    store.delete_experiment_tag(experiment_id, "team")
    renamed = store.get_experiment(experiment_id)
    assert renamed.name == name + "-renamed" and renamed.tags == {"stage": "dev"}


def test_experiments_are_deleted_restored_and_searched(store: RestStore) -> None:
    prefix = _name("search")
    ids = [store.create_experiment(f"{prefix}-{i}") for i in range(3)]
    store.delete_experiment(ids[0])
    assert store.get_experiment(ids[0]).lifecycle_stage == LifecycleStage.DELETED
    filter_string = f"name LIKE '{prefix}-%'"

    def names(view: ViewType) -> list[str]:
        found = store.search_experiments(view, 100, filter_string, ["name DESC"])
        return [e.name for e in found]

    assert names(ViewType.ACTIVE_ONLY) == [f"{prefix}-2", f"{prefix}-1"]
    assert names(ViewType.DELETED_ONLY) == [f"{prefix}-0"]
    assert len(names(ViewType.ALL)) == 3

    first = store.search_experiments(ViewType.ALL, 2, filter_string, ["name"])
    assert first.token is not None
    rest = store.search_experiments(
        ViewType.ALL, 2, filter_string, ["name"], first.token
    )
    assert [e.name for e in [*first, *rest]] == [f"{prefix}-{i}" for i in range(3)]
    assert rest.token is None

    store.restore_experiment(ids[0])
    assert store.get_experiment(ids[0]).lifecycle_stage == LifecycleStage.ACTIVE


def test_runs_are_created_updated_deleted_and_restored(store: RestStore) -> None:
    experiment_id = store.create_experiment(_name("runs"))
    run = store.create_run(experiment_id, "ada", 1000, [RunTag("k", "v")], "first")
    run_id = run.info.run_id

    assert run.info.status == "RUNNING" and run.info.run_name == "first"
    assert run.info.start_time == 1000 and run.data.tags["k"] == "v"
    assert store.get_run(run_id).info == run.info

    info = store.update_run_info(run_id, "FINISHED", 2000, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 2000, "renamed")

    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE

    with pytest.raises(ResourceDoesNotExist):
        store.get_run(uuid.uuid4().hex)


def test_params_accept_the_same_value_and_refuse_a_new_one(store: RestStore) -> None:
    run_id = _new_run(store, store.create_experiment(_name("params")))

    store.log_param(run_id, Param("lr", "0.1"))
    store.log_param(run_id, Param("lr", "0.1"))
    with pytest.raises(InvalidParameterValue):
        store.log_param(run_id, Param("lr", "0.2"))

    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_metrics_keep_steps_special_values_and_single_copies(
    store: RestStore, server: Server
) -> None:
    run_id = _new_run(store, store.create_experiment(_name("metrics")))
    for step in range(5):
        store.log_metric(run_id, Metric("loss", 1.0 / (step + 1), 100 + step, step))
    # Sending a point twice, as a retry would, keeps one copy.
    store.log_metric(run_id, Metric("loss", 0.2, 104, 4))
    store.log_metric(run_id, Metric("odd", math.nan, 1, 0))
    store.log_metric(run_id, Metric("odd", math.inf, 2, 1))

    history = store.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(i, 100 + i) for i in range(5)]
    odd = store.get_metric_history(run_id, "odd")
    assert math.isnan(odd[0].value)
    # MLflow's server stores +inf as the largest double; Kiln's keeps it.
    assert odd[1].value == (_MAX_DOUBLE if server.kind == "mlflow" else math.inf)
    latest = {m.key: m for m in store.get_run(run_id).data.latest_metrics}
    assert latest["loss"].step == 4 and latest["loss"].value == 0.2


def test_metric_history_comes_in_pages(store: RestStore) -> None:
    run_id = _new_run(store, store.create_experiment(_name("pages")))
    store.log_batch(run_id, [Metric("m", float(i), 10 + i, i) for i in range(7)])

    steps: list[int] = []
    token: str | None = None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=3, page_token=token)
        assert len(page) <= 3
        steps.extend(m.step for m in page)
        if page.token is None:
            break
        token = page.token
    assert steps == list(range(7))

    sampled = store.get_metric_history_bulk_interval([run_id], "m", max_results=3)
    assert sampled[0].step == 0 and sampled[-1].step == 6
    assert {m.run_id for m in sampled} == {run_id}


def test_batches_and_tags_are_logged(store: RestStore) -> None:
    run_id = _new_run(store, store.create_experiment(_name("batch")))
    metrics = [Metric("acc", 0.5, 1, 0), Metric("acc", 0.7, 2, 1)]
    params = [Param("depth", "3"), Param("seed", "7")]
    tags = [RunTag("owner", "ada"), RunTag("temp", "x")]

    store.log_batch(run_id, metrics, params, tags)
    store.log_batch(run_id, metrics, params, tags)
    store.set_tag(run_id, RunTag("owner", "grace"))
    store.delete_tag(run_id, "temp")
    with pytest.raises(ResourceDoesNotExist):
        store.delete_tag(run_id, "temp")

    data = store.get_run(run_id).data
    assert data.params == {"depth": "3", "seed": "7"}
    assert data.tags["owner"] == "grace" and "temp" not in data.tags
    assert data.metrics == {"acc": 0.7}
    assert len(store.get_metric_history(run_id, "acc")) == 2


def test_runs_are_searched_with_filters_order_and_pages(store: RestStore) -> None:
    experiment_id = store.create_experiment(_name("find"))
    for i in range(4):
        run_id = _new_run(store, experiment_id, f"run-{i}")
        store.log_batch(run_id, [Metric("score", float(i), 1)], [Param("i", str(i))])

    found = store.search_runs(
        [experiment_id], "metrics.score >= 1", order_by=["metrics.score DESC"]
    )
    assert [r.info.run_name for r in found] == ["run-3", "run-2", "run-1"]

    first = store.search_runs([experiment_id], max_results=3, order_by=["params.i"])
    assert len(first) == 3 and first.token is not None
    rest = store.search_runs(
        [experiment_id], max_results=3, order_by=["params.i"], page_token=first.token
    )
    assert [r.data.params["i"] for r in [*first, *rest]] == ["0", "1", "2", "3"]

    store.delete_run(first[0].info.run_id)
    deleted = store.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [first[0].info.run_id]


def _logged_model_id(store: RestStore, experiment_id: str) -> str:
    """A logged model's id, created through the API where the server has it.

    A server without the logged-model API does not check model ids that runs
    name as inputs or outputs, so any well-formed id serves there.
    """
    try:
        answer = store.http.call(
            "POST",
            "/api/2.0/mlflow/logged-models",
            {"experiment_id": experiment_id, "name": "model"},
            idempotent=False,
        )
    except KilnError as exc:
        if exc.error_code != "ENDPOINT_NOT_FOUND":
            raise
        return f"m-{uuid.uuid4().hex}"
    model_id: str = answer["model"]["info"]["model_id"]
    return model_id


def test_inputs_outputs_and_dataset_summaries(store: RestStore) -> None:
    experiment_id = store.create_experiment(_name("inputs"))
    run_id = _new_run(store, experiment_id)
    model_id = _logged_model_id(store, experiment_id)
    dataset = Dataset("train", "abc123", "local", '{"uri": "/d.csv"}', profile="{}")
    used = DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))

    store.log_inputs(run_id, [used], [LoggedModelInput(model_id)])
    store.log_inputs(run_id, [used])
    store.log_outputs(run_id, [LoggedModelOutput(model_id, 3)])

    run = store.get_run(run_id)
    assert run.inputs.dataset_inputs == (used,)
    assert run.inputs.model_inputs == (LoggedModelInput(model_id),)
    assert run.outputs.model_outputs == (LoggedModelOutput(model_id, 3),)
    [summary] = store.search_datasets([experiment_id])
    assert (summary.name, summary.digest, summary.context) == (
        "train",
        "abc123",
        "training",
    )


def test_unknown_endpoints_read_as_endpoint_not_found(store: RestStore) -> None:
    with pytest.raises(KilnError) as caught:
        store.http.call("GET", "/api/2.0/mlflow/no-such-thing", {}, idempotent=True)
    assert caught.value.error_code == "ENDPOINT_NOT_FOUND"


def test_a_history_longer_than_one_page_comes_back_whole(
    store: RestStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 10 stand in for the real 25,000, which would take MLflow's
    # server minutes to fill.
    monkeypatch.setattr("kiln.store.rest.store.METRIC_HISTORY_PAGE_SIZE", 10)
    run_id = _new_run(store, store.create_experiment(_name("long")))
    store.log_batch(run_id, [Metric("m", 1.0, i, i) for i in range(25)])

    history = store.get_metric_history(run_id, "m")

    assert [m.step for m in history] == list(range(25))
    assert history.token is None
