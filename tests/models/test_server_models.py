"""Models logged to and loaded from a running ``kiln server``: the logged
model is created over REST, its files go through the artifact proxy, and a
second load comes from the local cache."""

from __future__ import annotations

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
