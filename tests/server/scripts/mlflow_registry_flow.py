"""Use the model registry with the stock mlflow client against a server.

Usage: ``python mlflow_registry_flow.py http://127.0.0.1:PORT``; prints
COMPAT-OK when registering, searching (with aliases), setting and reading
aliases, stage transitions and loading ``models:/<name>@<alias>`` all work
as against an MLflow server.
"""

from __future__ import annotations

import sys
import warnings

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore", category=FutureWarning)

base_url = sys.argv[1]
mlflow.set_tracking_uri(base_url)
mlflow.set_experiment("registry")

features = numpy.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
labels = numpy.array([0, 1, 0, 1])
model = LogisticRegression().fit(features, labels)
expected = model.predict(features)

with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(model, name="model")

first = mlflow.register_model(info.model_uri, "churn")
second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
assert (first.version, second.version) in (("1", "2"), (1, 2)), (first, second)

client = MlflowClient()
client.set_registered_model_alias("churn", "champion", "2")
by_alias = client.get_model_version_by_alias("churn", "champion")
assert str(by_alias.version) == "2", by_alias
assert by_alias.aliases == ["champion"], by_alias.aliases

(found,) = client.search_registered_models(filter_string="name = 'churn'")
assert found.aliases == {"champion": "2"}, found.aliases
versions = client.search_model_versions("name = 'churn'")
assert {str(v.version): v.aliases for v in versions} == {
    "1": [],
    "2": ["champion"],
}, versions

moved = client.transition_model_version_stage("churn", "1", "Production")
assert moved.current_stage == "Production", moved
latest = client.get_latest_versions("churn", stages=["Production"])
assert [str(v.version) for v in latest] == ["1"], latest

try:
    client.get_model_version_by_alias("churn", "nobody")
except MlflowException as error:
    assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code
else:
    raise AssertionError("an unknown alias must fail")

for uri in ("models:/churn@champion", "models:/churn/1", "models:/churn/Production"):
    loaded = mlflow.pyfunc.load_model(uri)
    assert (loaded.predict(features) == expected).all(), uri

client.delete_registered_model_alias("churn", "champion")
client.delete_registered_model("churn")
print("COMPAT-OK")
