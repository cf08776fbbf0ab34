"""The S3 repository against moto's S3 server on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.artifacts import get_repository
from kiln.artifacts.s3 import S3Repository
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist

from .conftest import free_port

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "kiln-test"


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
    """An empty bucket; the environment points Kiln at the test server."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MLFLOW_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("KILN_S3_ENDPOINT_URL", s3_endpoint)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    keys = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in keys:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    client.close()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_files_and_folders_round_trip(s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "model"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "w.bin").write_bytes(b"\x00\x01" * 1000)
    (tmp_path / "notes.txt").write_text("hi")
    repository = get_repository(f"s3://{BUCKET}/runs/1/artifacts")

    repository.log_artifacts(source, "model")
    repository.log_artifact(tmp_path / "notes.txt")
    landed = repository.download_artifacts("model", tmp_path / "out")

    assert isinstance(repository, S3Repository)
    assert Path(landed) == tmp_path / "out" / "model"
    assert _tree(Path(landed)) == _tree(source)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {
        "runs/1/artifacts/model/MLmodel",
        "runs/1/artifacts/model/data/w.bin",
        "runs/1/artifacts/notes.txt",
    }
    head = s3.head_object(Bucket=BUCKET, Key="runs/1/artifacts/notes.txt")
    assert head["ContentType"] == "text/plain"


def test_listing_gives_direct_children_relative_to_the_root(
    s3: Any, tmp_path: Path
) -> None:
    for key in ("r/a/x.txt", "r/a/deep/y.txt", "r/b.txt", "other/z.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"123")
    repository = get_repository(f"s3://{BUCKET}/r")

    root = repository.list_artifacts()
    inner = repository.list_artifacts("a")

    assert [(f.path, f.is_dir, f.file_size) for f in root] == [
        ("a", True, None),
        ("b.txt", False, 3),
    ]
    assert [(f.path, f.is_dir) for f in inner] == [("a/deep", True), ("a/x.txt", False)]
    assert repository.list_artifacts("missing") == []
    assert repository.list_artifacts("b.txt") == []


def test_a_bucket_root_works_without_a_prefix(s3: Any, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    repository = get_repository(f"s3://{BUCKET}")

    repository.log_artifact(tmp_path / "f.txt", "d")
    whole = repository.download_artifacts("", tmp_path / "all")

    assert [f.path for f in repository.list_artifacts("d")] == ["d/f.txt"]
    assert _tree(Path(whole)) == {"d/f.txt": b"x"}


def test_a_large_file_goes_up_in_parts(s3: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    repository = get_repository(f"s3://{BUCKET}/r")

    repository.log_artifact(big)
    back = repository.download_artifacts("big.bin", tmp_path / "out")

    # A multipart upload's ETag ends in "-<number of parts>".
    assert "-" in s3.head_object(Bucket=BUCKET, Key="r/big.bin")["ETag"]
    assert Path(back).read_bytes() == big.read_bytes()


def test_deleting_a_file_or_a_folder(s3: Any) -> None:
    for key in ("r/a/x.txt", "r/a/y.txt", "r/b.txt", "r2/c.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1")
    repository = get_repository(f"s3://{BUCKET}/r")

    repository.delete_artifacts("a/x.txt")
    assert [f.path for f in repository.list_artifacts("a")] == ["a/y.txt"]
    repository.delete_artifacts("a")
    repository.delete_artifacts("nothing/here")
    assert [f.path for f in repository.list_artifacts()] == ["b.txt"]
    repository.delete_artifacts()

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["r2/c.txt"]


def test_a_missing_file_is_reported(s3: Any, tmp_path: Path) -> None:
    repository = get_repository(f"s3://{BUCKET}/r")

    with pytest.raises(ResourceDoesNotExist, match="missing"):
        repository.download_artifacts("missing.txt", tmp_path)


def test_the_mlflow_endpoint_variable_is_honoured(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = os.environ["KILN_S3_ENDPOINT_URL"]
    monkeypatch.delenv("KILN_S3_ENDPOINT_URL")
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
    (tmp_path / "f.txt").write_text("x")

    get_repository(f"s3://{BUCKET}/m").log_artifact(tmp_path / "f.txt")

    assert s3.head_object(Bucket=BUCKET, Key="m/f.txt")["ContentLength"] == 1


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/abs", "a%2f..%2f..%2fx"])
def test_traversal_is_refused_before_any_request(tmp_path: Path, path: str) -> None:
    repository = S3Repository(f"s3://{BUCKET}/r", client=object())
    (tmp_path / "f.txt").write_text("x")

    with pytest.raises(InvalidParameterValue):
        repository.log_artifact(tmp_path / "f.txt", path)
    with pytest.raises(InvalidParameterValue):
        repository.download_artifacts(path, tmp_path)
    with pytest.raises(InvalidParameterValue):
        repository.delete_artifacts(path)


@pytest.mark.parametrize("uri", ["s3:///no-bucket", "s3://b/x?y=1", "s3://b/../x"])
def test_a_malformed_root_is_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue):
        S3Repository(uri, client=object())
