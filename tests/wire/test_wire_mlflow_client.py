"""The stock mlflow client parses what Kiln writes.

The check runs in the stock MLflow environment found by the ``mlflow_python``
fixture (``tests/conftest.py``).
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest

from kiln.entities import Experiment, Metric, Run, RunData, RunInfo
from kiln.wire import dumps, experiment_to_dict, run_to_dict

pytestmark = pytest.mark.slow

_PARSE = """
import sys, json
from google.protobuf import json_format
from mlflow.protos.service_pb2 import GetRun, GetExperiment
from mlflow.entities import Run, Experiment
run = json_format.Parse(sys.argv[1], GetRun.Response())
exp = json_format.Parse(sys.argv[2], GetExperiment.Response())
run = Run.from_proto(run.run)
exp = Experiment.from_proto(exp.experiment)
metrics = {k: repr(v) for k, v in run.data.metrics.items()}
print(json.dumps({
    "run_id": run.info.run_id, "status": run.info.status,
    "end_time": run.info.end_time, "metrics": metrics,
    "params": run.data.params, "experiment": exp.name, "tags": exp.tags,
}))
"""


def test_stock_client_reads_runs_and_experiments_written_by_kiln(
    mlflow_python: str,
) -> None:
    python = mlflow_python
    info = RunInfo("a" * 32, "3", "r", "ada", "FINISHED", 1, 2, "/a", "active")
    data = RunData(
        latest_metrics=(
            Metric("nan", math.nan, 1),
            Metric("inf", math.inf, 1),
            Metric("neg", -math.inf, 1),
            Metric("x", 0.5, 1, 4),
        ),
        params={"lr": "0.1"},
    )
    run = dumps({"run": run_to_dict(Run(info, data))}).decode()
    exp = Experiment("3", "e", "/a", tags={"k": "v"})
    experiment = dumps({"experiment": experiment_to_dict(exp)}).decode()

    result = subprocess.run(
        [python, "-c", _PARSE, run, experiment],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    if "No module named 'mlflow'" in result.stderr:
        pytest.skip(f"{python} has no mlflow installed.")
    assert result.returncode == 0, result.stderr

    parsed = json.loads(result.stdout)
    assert parsed["run_id"] == "a" * 32
    assert parsed["status"] == "FINISHED"
    assert parsed["end_time"] == 2
    assert parsed["metrics"] == {"nan": "nan", "inf": "inf", "neg": "-inf", "x": "0.5"}
    assert parsed["params"] == {"lr": "0.1"}
    assert parsed["experiment"] == "e"
    assert parsed["tags"] == {"k": "v"}
