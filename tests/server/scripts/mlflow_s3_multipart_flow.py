"""Log and read back a large file with the stock mlflow client, through a
server whose artifact proxy stores in S3 and advertises multipart uploads.

Usage: ``python mlflow_s3_multipart_flow.py http://127.0.0.1:PORT``; prints
the run id and COMPAT-OK when the file came back unchanged.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("s3-multipart")
folder = Path(tempfile.mkdtemp())
weights = folder / "weights.bin"
weights.write_bytes(os.urandom(11 * 1024 * 1024))
with mlflow.start_run() as run:
    mlflow.log_artifact(str(weights), "model")

client = MlflowClient()
listed = [info.path for info in client.list_artifacts(run.info.run_id, "model")]
assert listed == ["model/weights.bin"], listed
landed = mlflow.artifacts.download_artifacts(
    run_id=run.info.run_id,
    artifact_path="model/weights.bin",
    dst_path=str(folder / "o"),
)
digest = hashlib.sha256(Path(landed).read_bytes()).hexdigest()
assert digest == hashlib.sha256(weights.read_bytes()).hexdigest()
print(run.info.run_id)
print("COMPAT-OK")
