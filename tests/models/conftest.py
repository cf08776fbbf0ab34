from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiln.tracking import active, config
from kiln.tracking.stores import clear_stores

_SETTINGS = (
    "KILN_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "KILN_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_ID",
    "KILN_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_NAME",
    "KILN_RUN_ID",
    "MLFLOW_RUN_ID",
)


@pytest.fixture(autouse=True)
def fresh_tracking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Each test: its own folder, database and model cache, no active run."""
    for name in _SETTINGS:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KILN_MODEL_CACHE", str(tmp_path / "model-cache"))
    monkeypatch.setattr(active, "_stack", [])
    monkeypatch.setattr(active, "_last_run", None)
    monkeypatch.setattr(active, "_experiment", None)
    uri = f"sqlite:///{tmp_path / 'kiln.db'}"
    monkeypatch.setattr(config, "_explicit_tracking_uri", uri)
    yield uri
    clear_stores()


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 1, 0]})


@pytest.fixture
def labels() -> np.ndarray:
    return np.array([0, 1, 0, 1])
