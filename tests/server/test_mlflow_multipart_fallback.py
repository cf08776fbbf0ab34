"""The stock ``mlflow`` client, told to upload in parts, against a Kiln
server whose artifacts live in a local folder: it falls back to one PUT."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .processes import run_mlflow_client, running_server

_SCRIPT = textwrap.dedent(
    """
    import sys, tempfile, os
    import mlflow

    mlflow.set_tracking_uri(sys.argv[1])
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "weights.bin")
    with open(path, "wb") as f:
        f.write(b"k" * 4096)
    with mlflow.start_run() as run:
        mlflow.log_artifact(path)
    back = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="weights.bin"
    )
    assert open(back, "rb").read() == b"k" * 4096
    print("FALLBACK-OK")
    """
)


@pytest.mark.slow
def test_mlflow_client_falls_back_to_a_single_put_on_a_local_destination(
    tmp_path: Path, mlflow_python: str
) -> None:
    env = {
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true",
        "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": "1024",
    }
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(mlflow_python, "-c", _SCRIPT, base_url, env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "FALLBACK-OK" in result.stdout
