from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kiln.cli.main import cli
from kiln.tracking.client import KilnClient

from .helpers import Invoke

_SETTINGS = (
    "KILN_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "KILN_ARTIFACT_ROOT",
    "KILN_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_ID",
)


@pytest.fixture(autouse=True)
def _no_tracking_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own KILN_/MLFLOW_ settings must not leak into these tests.
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kiln.db'}"


@pytest.fixture
def client(tracking_uri: str) -> Iterator[KilnClient]:
    yield KilnClient(tracking_uri=tracking_uri)


@pytest.fixture
def kiln(tracking_uri: str) -> Invoke:
    """Run ``kiln --tracking-uri <temp db> ARGS...`` in-process."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, ["--tracking-uri", tracking_uri, *args], env=env)

    return invoke
