"""Log and load models with the stock mlflow client against a server.

Usage: ``python mlflow_log_model_flow.py http://127.0.0.1:PORT``; prints
COMPAT-OK when MLflow 3's logged-model flow and the 2.x flow (files under
the run, then ``runs/log-model``) both work as against an MLflow server.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

base_url = sys.argv[1]
mlflow.set_tracking_uri(base_url)
experiment_id = mlflow.set_experiment("models").experiment_id

features = numpy.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
labels = numpy.array([0, 1, 0, 1])
model = LogisticRegression().fit(features, labels)
expected = model.predict(features)

# MLflow 3: a logged model with its own id and artifacts.
with mlflow.start_run() as run:
    mlflow.log_param("C", 1.0)
    mlflow.log_metric("accuracy", 1.0, step=0)
    info = mlflow.sklearn.log_model(model, name="model", input_example=features[:2])
run_id = run.info.run_id
model_id = info.model_id
assert model_id and model_id.startswith("m-"), model_id

client = MlflowClient()
logged = client.get_logged_model(model_id)
assert str(logged.status) in ("READY", "LoggedModelStatus.READY"), logged.status
assert logged.source_run_id == run_id, logged.source_run_id
assert logged.name == "model", logged.name
assert logged.artifact_location.endswith(f"/models/{model_id}/artifacts")
assert logged.params == {"C": "1.0"}, logged.params
# The client copies the run's metrics at the model's step onto the model.
assert [(m.key, m.value) for m in logged.metrics] == [("accuracy", 1.0)], logged
outputs = client.get_run(run_id).outputs.model_outputs
assert [o.model_id for o in outputs] == [model_id], outputs

found = mlflow.search_logged_models(
    experiment_ids=[experiment_id], filter_string="name = 'model'", output_format="list"
)
assert [m.model_id for m in found] == [model_id], found

for uri in (f"runs:/{run_id}/model", f"models:/{model_id}"):
    loaded = mlflow.pyfunc.load_model(uri)
    assert (loaded.predict(features) == expected).all(), uri

# MLflow 2.x: the model's files under the run, recorded with runs/log-model.
with mlflow.start_run() as old_run:
    folder = Path(tempfile.mkdtemp()) / "legacy"
    mlflow.sklearn.save_model(model, str(folder))
    mlflow.log_artifacts(str(folder), "legacy")
old_id = old_run.info.run_id
model_json = {
    "artifact_path": "legacy",
    "run_id": old_id,
    "utc_time_created": "2024-01-01 00:00:00.000000",
    "flavors": {"sklearn": {"pickled_model": "model.pkl"}},
}
answer = requests.post(
    f"{base_url}/api/2.0/mlflow/runs/log-model",
    json={"run_id": old_id, "model_json": json.dumps(model_json)},
    timeout=30,
)
assert answer.status_code == 200, answer.text
history = json.loads(client.get_run(old_id).data.tags["mlflow.log-model.history"])
assert [entry["artifact_path"] for entry in history] == ["legacy"], history
legacy = mlflow.pyfunc.load_model(f"runs:/{old_id}/legacy")
assert (legacy.predict(features) == expected).all()

print("COMPAT-OK")
