from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.tracking import active, config
from kiln.tracking.client import KilnClient
from kiln.tracking.stores import clear_stores

_SETTINGS = (
    "KILN_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "KILN_ARTIFACT_ROOT",
    "KILN_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_ID",
    "KILN_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_NAME",
    "KILN_RUN_ID",
    "MLFLOW_RUN_ID",
)


@pytest.fixture(autouse=True)
def fresh_tracking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Each test: its own working folder and database, no inherited settings,
    no active run; set_experiment's exported variables are undone after."""
    for name in _SETTINGS:
        # setenv first so monkeypatch restores "unset" even when the code
        # under test exports the variable itself.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(active, "_stack", [])
    monkeypatch.setattr(active, "_last_run", None)
    monkeypatch.setattr(active, "_experiment", None)
    uri = f"sqlite:///{tmp_path / 'kiln.db'}"
    monkeypatch.setattr(config, "_explicit_tracking_uri", uri)
    yield uri
    clear_stores()


@pytest.fixture
def tracking_uri(fresh_tracking: str) -> str:
    return fresh_tracking


@pytest.fixture
def client(tracking_uri: str) -> KilnClient:
    return KilnClient(tracking_uri)
