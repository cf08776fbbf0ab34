"""Presigned transfers through a proxy storing in S3: multipart uploads and
download URLs, against moto's S3 server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ApiClient, MakeClient, assert_error
from .moto_s3 import (
    BUCKET,
    DESTINATION,
    MIB,
    MPU,
    PREFIX,
    PROXY,
    keys,
    object_body,
    pending_uploads,
    proxy,
    s3,
    s3_endpoint,
)
from .processes import running_server

# pytest finds the fixtures imported above by name; listing them here tells
# the linter they are used.
__all__ = ["proxy", "s3", "s3_endpoint"]


def _upload_parts(credentials: list[dict[str, Any]], parts: list[bytes]) -> list[Any]:
    sent = []
    for credential, data in zip(credentials, parts, strict=True):
        answer = httpx.put(
            credential["url"], content=data, headers=credential["headers"]
        )
        assert answer.status_code == 200, answer.text
        sent.append(
            {
                "part_number": credential["part_number"],
                "etag": answer.headers["etag"],
                "url": credential["url"],
            }
        )
    return sent


def test_multipart_upload_through_presigned_urls(proxy: ApiClient, s3: Any) -> None:
    # MLflow's client names its local file; the artifact takes its last segment.
    local = "/home/me/model.bin"
    parts = [os.urandom(5 * MIB), b"tail"]
    created = proxy.post(
        f"{MPU}/create/run/artifacts", json={"path": local, "num_parts": 2}
    ).json()
    sent = _upload_parts(created["credentials"], parts)

    completed = proxy.post(
        f"{MPU}/complete/run/artifacts",
        json={"path": local, "upload_id": created["upload_id"], "parts": sent},
    )

    assert [c["part_number"] for c in created["credentials"]] == [1, 2]
    assert completed.status_code == 200 and completed.json() == {}
    assert object_body(s3, "run/artifacts/model.bin") == b"".join(parts)
    assert proxy.get(f"{PROXY}/run/artifacts/model.bin").content == b"".join(parts)


def test_aborted_multipart_upload_leaves_nothing(proxy: ApiClient, s3: Any) -> None:
    body = {"path": "model.bin", "num_parts": 1}
    created = proxy.post(f"{MPU}/create/run", json=body).json()
    _upload_parts(created["credentials"], [b"part"])

    aborted = proxy.post(
        f"{MPU}/abort/run",
        json={"path": "model.bin", "upload_id": created["upload_id"]},
    )

    assert aborted.json() == {}
    assert pending_uploads(s3) == []
    assert keys(s3) == set()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("create", {"path": "m.bin", "num_parts": 0}),
        ("create", {"path": "m.bin", "num_parts": "2"}),
        ("create", {"num_parts": 2}),
        ("create", {"path": "/home/me/..", "num_parts": 2}),
        ("create", {"path": "C:\\Users\\me\\", "num_parts": 2}),
        ("complete", {"path": "m.bin", "upload_id": "x", "parts": []}),
        ("complete", {"path": "m.bin", "upload_id": "x", "parts": [{"etag": "e"}]}),
        ("abort", {"path": "m.bin"}),
    ],
)
def test_malformed_multipart_requests_are_refused(
    proxy: ApiClient, action: str, body: dict[str, Any]
) -> None:
    response = proxy.post(f"{MPU}/{action}/run", json=body)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_completing_with_a_wrong_etag_is_refused(proxy: ApiClient, s3: Any) -> None:
    created = proxy.post(f"{MPU}/create/run", json={"path": "m.bin", "num_parts": 1})
    upload_id = created.json()["upload_id"]
    _upload_parts(created.json()["credentials"], [b"part"])
    parts = [{"part_number": 1, "etag": '"0123456789abcdef0123456789abcdef"'}]

    response = proxy.post(
        f"{MPU}/complete/run",
        json={"path": "m.bin", "upload_id": upload_id, "parts": parts},
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert keys(s3) == set()


@pytest.mark.parametrize("local", ["model.bin", "C:\\Users\\me\\model.bin"])
def test_multipart_upload_names_the_artifact_after_the_file(
    proxy: ApiClient, s3: Any, local: str
) -> None:
    body = {"path": local, "num_parts": 1}
    created = proxy.post(f"{MPU}/create/run", json=body).json()
    sent = _upload_parts(created["credentials"], [b"small"])

    proxy.post(
        f"{MPU}/complete/run",
        json={"path": local, "upload_id": created["upload_id"], "parts": sent},
    )

    assert keys(s3) == {f"{PREFIX}/run/model.bin"}


def test_presigned_download_url(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/run/notes.txt", content=b"hello")

    answer = proxy.get("/api/2.0/mlflow-artifacts/presigned/run/notes.txt").json()

    assert answer["file_size"] == 5
    assert httpx.get(answer["url"], headers=answer["headers"]).content == b"hello"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (None, None, False),
        ("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true", True),
        ("KILN_ENABLE_PROXY_MULTIPART_UPLOAD", "1", True),
        ("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false", False),
    ],
)
def test_server_info_advertises_multipart_uploads_on_s3_when_enabled(
    s3: Any,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    variable: str | None,
    value: str,
    expected: bool,
) -> None:
    if variable:
        monkeypatch.setenv(variable, value)
    s3_client = make_client(artifacts_destination=DESTINATION)
    local_client = make_client()

    s3_info = s3_client.get("/api/3.0/mlflow/server-info").json()
    local_info = local_client.get("/api/3.0/mlflow/server-info").json()

    assert s3_info["multipart_uploads_enabled"] is expected
    assert local_info["multipart_uploads_enabled"] is False


FLOW = Path(__file__).with_name("scripts") / "mlflow_s3_multipart_flow.py"


@pytest.mark.slow
def test_mlflow_client_uploads_in_presigned_parts_to_an_s3_destination(
    s3: Any,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_python: str,
) -> None:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    # The client learns of multipart uploads from server-info alone.
    client_env = {
        name: value
        for name, value in os.environ.items()
        if name != "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"
    }
    client_env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(MIB)
    client_env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(5 * MIB)
    client_env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"

    with running_server(tmp_path, "--artifacts-destination", DESTINATION) as (url, _):
        result = subprocess.run(
            [mlflow_python, str(FLOW), url],
            capture_output=True,
            text=True,
            env=client_env,
            timeout=180,
            check=False,
        )

    assert result.returncode == 0, result.stderr[-3000:]
    run_id = result.stdout.split()[-2]
    (key,) = keys(s3)
    assert key.startswith(PREFIX) and key.endswith(
        f"{run_id}/artifacts/model/weights.bin"
    )
    # Three presigned parts of 5 MiB: S3 marks such an object's ETag.
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"].endswith('-3"')
