"""Kiln's client against a stock MLflow server: artifacts through its proxy
and metrics, params and tags through background log-batch requests.

The server comes from the stock MLflow environment found by the
``mlflow_executable`` fixture (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiln.entities import RunStatus
from kiln.errors import InvalidParameterValue
from kiln.tracking.client import KilnClient
from kiln.tracking.stores import clear_stores

from .conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mlflow_url(
    tmp_path_factory: pytest.TempPathFactory, mlflow_executable: str
) -> Iterator[str]:
    executable = mlflow_executable
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = (root / "server.log").open("wb")
    command = [
        executable, "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{root}/m.db",
        "--artifacts-destination", str(root / "artifacts"), "--workers", "1",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).text.strip() == "OK":
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((root / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url
    finally:
        clear_stores()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_artifacts_round_trip_through_mlflows_proxy(
    mlflow_url: str, tmp_path: Path
) -> None:
    client = KilnClient(mlflow_url)
    experiment_id = client.create_experiment(f"kiln-{os.getpid()}-{time.time()}")
    run_id = client.create_run(experiment_id).info.run_id
    source = tmp_path / "model"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "w.bin").write_bytes(bytes(range(256)))

    client.log_artifacts(run_id, source, "model")
    client.log_text(run_id, "hello", "notes.txt")
    listed = [(f.path, f.is_dir) for f in client.list_artifacts(run_id)]
    landed = Path(client.download_artifacts(run_id, "model", tmp_path / "out"))

    assert client.get_run(run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert listed == [("model", True), ("notes.txt", False)]
    assert (landed / "data" / "w.bin").read_bytes() == bytes(range(256))
    assert client.list_artifacts(run_id, "notes.txt") == []


def test_background_logging_and_its_refusals(mlflow_url: str) -> None:
    client = KilnClient(mlflow_url)
    experiment_id = client.create_experiment(f"kiln-b-{os.getpid()}-{time.time()}")
    run_id = client.create_run(experiment_id).info.run_id

    for step in range(1500):
        client.log_metric(run_id, "loss", 1 / (step + 1), step=step)
    client.log_param(run_id, "lr", 0.1)
    client.set_tag(run_id, "team", "vision")
    client.log_param(run_id, "lr", 0.2)
    with pytest.raises(InvalidParameterValue, match="'lr'"):
        client.set_terminated(run_id)

    run = client.get_run(run_id)
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["team"] == "vision"
    assert len(client.get_metric_history(run_id, "loss")) == 1500
