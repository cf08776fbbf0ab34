"""The stock ``mlflow`` client against ``kiln server``.

The client runs in its own virtual environment (``.venv-mlflow``, made by
``scripts/install-mlflow``, or ``$KILN_MLFLOW_PYTHON``), since Kiln never
imports mlflow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .processes import run_mlflow_client, running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_client_flow.py"


@pytest.mark.slow
def test_mlflow_client_tracks_runs_and_artifacts_through_kiln(
    tmp_path: Path, mlflow_python: str
) -> None:
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(mlflow_python, str(FLOW), base_url)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "COMPAT-OK" in result.stdout
