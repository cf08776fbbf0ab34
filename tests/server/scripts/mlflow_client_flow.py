"""A typical tracking script, run with the stock mlflow client against a server.

Usage: ``python mlflow_client_flow.py http://127.0.0.1:PORT``; prints
COMPAT-OK when every step behaved as it does against an MLflow server.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import mlflow
import mlflow.data
import pandas
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("compat")
with mlflow.start_run(run_name="first") as run:
    mlflow.log_param("lr", 0.1)
    mlflow.log_metric("loss", 0.5, step=1)
    mlflow.log_metric("loss", 0.25, step=2)
    mlflow.log_metrics({"a": 1.0, "b": float("nan")})
    mlflow.set_tag("team", "ml")
    mlflow.log_text("hello", "notes/hello.txt")
    mlflow.log_dict({"a": 1}, "d.json")
    folder = Path(tempfile.mkdtemp())
    (folder / "deep" / "er").mkdir(parents=True)
    (folder / "deep" / "er" / "leaf.txt").write_text("leaf")
    (folder / "top.txt").write_text("top")
    mlflow.log_artifacts(str(folder), "tree")
    frame = pandas.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="toy"), context="train")
run_id = run.info.run_id

client = MlflowClient()
fetched = client.get_run(run_id)
assert fetched.data.params == {"lr": "0.1"}, fetched.data.params
assert fetched.data.metrics["loss"] == 0.25, fetched.data.metrics
assert math.isnan(fetched.data.metrics["b"]), fetched.data.metrics
assert fetched.data.tags["team"] == "ml"
assert fetched.info.run_name == "first"
assert fetched.info.status == "FINISHED"
assert fetched.info.artifact_uri.startswith("mlflow-artifacts:/")

history = client.get_metric_history(run_id, "loss")
assert [(m.step, m.value) for m in history] == [(1, 0.5), (2, 0.25)]

listed = sorted(a.path for a in client.list_artifacts(run_id))
assert listed == ["d.json", "notes", "tree"], listed
uri = fetched.info.artifact_uri
local = mlflow.artifacts.download_artifacts(artifact_uri=f"{uri}/notes/hello.txt")
assert Path(local).read_text() == "hello"
tree = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"{uri}/tree"))
assert (tree / "deep" / "er" / "leaf.txt").read_text() == "leaf"
assert (tree / "top.txt").read_text() == "top"

[dataset_input] = fetched.inputs.dataset_inputs
assert dataset_input.dataset.name == "toy"
assert {t.key: t.value for t in dataset_input.tags} == {"mlflow.data.context": "train"}

found = client.search_runs([fetched.info.experiment_id], "params.lr = '0.1'")
assert [r.info.run_id for r in found] == [run_id]
assert [e.name for e in client.search_experiments()] == ["compat", "Default"]

client.delete_run(run_id)
assert client.get_run(run_id).info.lifecycle_stage == "deleted"
client.restore_run(run_id)
experiment = client.get_experiment_by_name("compat")
assert experiment is not None
client.rename_experiment(experiment.experiment_id, "renamed")
assert client.get_experiment_by_name("compat") is None
print("COMPAT-OK")
