"""moto's S3 server on loopback, and a proxy storing in one of its buckets.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import ApiClient, MakeClient

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "kiln-proxy"
PREFIX = "team/artifacts"
DESTINATION = f"s3://{BUCKET}/{PREFIX}"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MPU = "/api/2.0/mlflow-artifacts/mpu"
MIB = 1024 * 1024
ENV_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "MLFLOW_S3_ENDPOINT_URL",
    "KILN_ENABLE_PROXY_MULTIPART_UPLOAD",
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, for this module's tests."""
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty bucket; the environment points the server at moto."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("KILN_S3_ENDPOINT_URL", s3_endpoint)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(
            Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    for key in keys(client):
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)
    client.close()


@pytest.fixture
def proxy(s3: Any, make_client: MakeClient) -> ApiClient:
    return make_client(artifacts_destination=DESTINATION)


def keys(s3: Any) -> set[str]:
    return {
        item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    }


def object_body(s3: Any, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()
    return data


def pending_uploads(s3: Any) -> list[Any]:
    uploads: list[Any] = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    return uploads
