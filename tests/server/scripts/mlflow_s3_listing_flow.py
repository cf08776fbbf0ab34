"""Log a small tree of artifacts with the stock mlflow client and print what
its ``list_artifacts`` sees, for comparing with the server's own listing.

Usage: ``python mlflow_s3_listing_flow.py http://127.0.0.1:PORT``; the last
line printed is a JSON object: the run id and, per folder, the listing.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("s3-listing")
folder = Path(tempfile.mkdtemp())
(folder / "deep" / "er").mkdir(parents=True)
(folder / "deep" / "er" / "leaf.txt").write_text("leaf")
(folder / "top.txt").write_text("top")
with mlflow.start_run() as run:
    mlflow.log_artifacts(str(folder), "tree")
    mlflow.log_text("hello", "notes.txt")

client = MlflowClient()
listings = {}
for path in ("", "tree", "tree/deep", "tree/deep/er"):
    listings[path] = [
        {
            "path": info.path,
            "is_dir": info.is_dir,
            **({} if info.file_size is None else {"file_size": info.file_size}),
        }
        for info in client.list_artifacts(run.info.run_id, path or None)
    ]
print(json.dumps({"run_id": run.info.run_id, "listings": listings}))
