"""The stock ``mlflow`` client registers models from runs against ``kiln
server``, and cannot make a version claim a run its files are not in."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .processes import running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_register_sources_flow.py"


@pytest.mark.slow
def test_mlflow_client_registers_from_runs_and_is_held_to_their_roots(
    tmp_path: Path, mlflow_python: str
) -> None:
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    with running_server(tmp_path) as (base_url, _):
        result = subprocess.run(
            [mlflow_python, str(FLOW), base_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
            cwd=tmp_path,
        )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "COMPAT-OK" in result.stdout
