"""Models logged to and loaded from a running ``kiln server``: the logged
model is created over REST, its files go through the artifact proxy, a
second load comes from the local cache, and the stock MLflow client loads
what Kiln logged."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from server.processes import running_server
from sklearn.linear_model import LogisticRegression

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn
from kiln.models import uris
from kiln.tracking import config

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).with_name("scripts")


def test_log_and_load_through_a_server(
    tmp_path: Path,
    frame: pd.DataFrame,
    labels: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    estimator = LogisticRegression().fit(frame, labels)
    with running_server(tmp_path) as (base_url, _):
        monkeypatch.setattr(config, "_explicit_tracking_uri", base_url)
        with kiln.start_run() as run:
            info = kiln_sklearn.log_model(estimator, name="clf", input_example=frame)
        downloads: list[str] = []
        real = uris._download

        def counting(location: str, *args: object) -> str:
            downloads.append(location)
            return real(location, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(uris, "_download", counting)

        first = pyfunc.load_model(info.model_uri)
        second = pyfunc.load_model(f"runs:/{run.info.run_id}/clf")

    assert str(info.artifact_path).startswith("mlflow-artifacts:/")
    assert first.predict(frame).tolist() == estimator.predict(frame).tolist()
    assert second.folder == first.folder
    assert downloads == [info.artifact_path]


def test_mlflow_loads_what_kiln_logged_to_a_server(
    tmp_path: Path,
    frame: pd.DataFrame,
    labels: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_python: str,
) -> None:
    estimator = LogisticRegression().fit(frame, labels)
    (tmp_path / "input.json").write_text(
        json.dumps(
            {
                "columns": list(frame.columns),
                "data": frame.astype(object).values.tolist(),
            }
        )
    )
    with running_server(tmp_path) as (base_url, _):
        monkeypatch.setattr(config, "_explicit_tracking_uri", base_url)
        with kiln.start_run() as run:
            info = kiln_sklearn.log_model(estimator, name="clf", input_example=frame)
        uris_to_load = [info.model_uri, f"runs:/{run.info.run_id}/clf"]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KILN_")},
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        }
        done = subprocess.run(
            [
                mlflow_python,
                str(SCRIPTS / "mlflow_loads_from_server.py"),
                base_url,
                str(tmp_path / "input.json"),
                *uris_to_load,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            check=False,
        )

    assert done.returncode == 0, done.stderr[-3000:]
    predicted = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [float(v) for v in estimator.predict(frame)]
    assert predicted == {uri: expected for uri in uris_to_load}


def test_kiln_loads_what_mlflow_logged_to_a_server(
    tmp_path: Path,
    frame: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_python: str,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KILN_")},
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    with running_server(tmp_path) as (base_url, _):
        done = subprocess.run(
            [mlflow_python, str(SCRIPTS / "mlflow_logs_to_server.py"), base_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        logged = json.loads(done.stdout.strip().splitlines()[-1])
        monkeypatch.setattr(config, "_explicit_tracking_uri", base_url)

        by_id = pyfunc.load_model(logged["model_uri"])
        by_run = kiln_sklearn.load_model(f"runs:/{logged['run_id']}/clf")

    assert logged["model_uri"].startswith("models:/m-")
    assert by_id.predict(frame).tolist() == logged["predictions"]
    assert by_run.predict(frame).tolist() == logged["predictions"]
    assert by_id.metadata.model_id == logged["model_uri"].removeprefix("models:/")
