"""Move aliases and stages with the stock mlflow client against a server.

Usage: ``python mlflow_registry_history_flow.py http://127.0.0.1:PORT``, with
``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD`` set; prints
COMPAT-OK when every call succeeded. The test then reads the history the
server recorded for the model ``history``.
"""

from __future__ import annotations

import sys

from mlflow import MlflowClient

client = MlflowClient(tracking_uri=sys.argv[1])
client.create_registered_model("history")
for _ in range(2):
    client.create_model_version("history", "s3://bucket/model")
client.set_registered_model_alias("history", "champion", "1")
client.set_registered_model_alias("history", "champion", "2")
client.transition_model_version_stage("history", "1", "Production")
client.transition_model_version_stage(
    "history", "2", "Production", archive_existing_versions=True
)
client.delete_registered_model_alias("history", "champion")
print("COMPAT-OK")
