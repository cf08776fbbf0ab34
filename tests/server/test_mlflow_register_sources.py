"""The stock ``mlflow`` client registers models from runs against ``kiln
server``, and cannot make a version claim a run its files are not in."""

from __future__ import annotations

from pathlib import Path

import pytest

from .processes import run_mlflow_client, running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_register_sources_flow.py"


@pytest.mark.slow
def test_mlflow_client_registers_from_runs_and_is_held_to_their_roots(
    tmp_path: Path, mlflow_python: str
) -> None:
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(mlflow_python, str(FLOW), base_url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "COMPAT-OK" in result.stdout
