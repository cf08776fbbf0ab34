"""``kiln.search_runs`` returns the DataFrame layout ``mlflow.search_runs`` does.

The same runs are logged with each library and the frames' columns and
dtypes compared. MLflow runs in its own virtual environment (``.venv-mlflow`` or
``$KILN_MLFLOW_PYTHON``), since Kiln never imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

# Runs in both environments with ``lib`` bound to mlflow or kiln.
_SCRIPT = """
import json
lib.set_tracking_uri("sqlite:///compare.db")
lib.set_experiment("compare")
empty = lib.search_runs()
with lib.start_run(run_name="first"):
    lib.log_param("p", "x")
    lib.log_metric("m", 0.5)
    lib.set_tag("t", "v")
with lib.start_run(run_name="second"):
    lib.log_metric("other", 2)
running = lib.start_run()
frame = lib.search_runs()
lib.end_run()
def layout(df):
    return {"columns": list(df.columns), "dtypes": {c: str(df[c].dtype) for c in df}}
print(json.dumps({"empty": layout(empty), "full": layout(frame), "rows": len(frame)}))
"""


def _layout(python: str, import_line: str, folder: Path) -> dict[str, object]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "MLFLOW_"))
    }
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    done = subprocess.run(
        [python, "-c", import_line + _SCRIPT],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_frame_matches_mlflow(tmp_path: Path, mlflow_python: str) -> None:
    import sys

    (tmp_path / "mlflow").mkdir()
    (tmp_path / "kiln").mkdir()
    theirs = _layout(mlflow_python, "import mlflow as lib", tmp_path / "mlflow")
    ours = _layout(sys.executable, "import kiln as lib", tmp_path / "kiln")

    assert ours["rows"] == theirs["rows"] == 3
    assert ours["empty"] == theirs["empty"]
    full_ours, full_theirs = ours["full"], theirs["full"]
    assert isinstance(full_ours, dict) and isinstance(full_theirs, dict)
    assert full_ours["columns"][:6] == full_theirs["columns"][:6]
    # Key order within a group is not specified by MLflow (it comes from sets).
    assert set(full_ours["columns"]) == set(full_theirs["columns"])
    assert full_ours["dtypes"] == full_theirs["dtypes"]
