"""The artifact proxy with an ``s3://`` destination, against moto's S3 server."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore
from kiln.tracking.client import KilnClient
from kiln.tracking.stores import clear_stores

from .conftest import (
    ApiClient,
    assert_error,
    send_raw,
)
from .moto_s3 import (
    BUCKET,
    DESTINATION,
    MIB,
    MPU,
    PREFIX,
    PROXY,
    free_port,
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


def test_upload_download_round_trip(proxy: ApiClient, s3: Any) -> None:
    uploaded = proxy.put(f"{PROXY}/1/run/artifacts/model/w.bin", content=b"abc")

    downloaded = proxy.get(f"{PROXY}/1/run/artifacts/model/w.bin")

    assert uploaded.status_code == 200 and uploaded.json() == {}
    assert keys(s3) == {f"{PREFIX}/1/run/artifacts/model/w.bin"}
    assert downloaded.status_code == 200
    assert downloaded.content == b"abc"
    assert downloaded.headers["content-length"] == "3"
    assert downloaded.headers["accept-ranges"] == "bytes"
    assert downloaded.headers["content-disposition"].startswith("attachment")


def test_head_gives_the_headers_alone(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/w.bin", content=b"0123456789")

    response = proxy.request("HEAD", f"{PROXY}/w.bin")

    assert response.status_code == 200
    assert response.headers["content-length"] == "10"
    assert response.content == b""


def test_html_artifacts_are_not_served_as_html(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/page.html", content=b"<script>alert(1)</script>")

    response = proxy.get(f"{PROXY}/page.html")

    assert response.headers["content-type"].startswith("text/plain")


def test_large_upload_streams_to_s3_in_parts(proxy: ApiClient, s3: Any) -> None:
    chunk = os.urandom(256 * 1024)
    count = 80  # 20 MiB: two full parts and a last, smaller one
    expected = hashlib.sha256(chunk * count).hexdigest()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    response = proxy.put(f"{PROXY}/big/blob.bin", content=body())

    assert response.status_code == 200, response.text
    assert hashlib.sha256(object_body(s3, "big/blob.bin")).hexdigest() == expected
    head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/big/blob.bin")
    assert head["ETag"].endswith('-3"')  # S3 marks a multipart object's ETag
    assert pending_uploads(s3) == []


def test_client_leaving_mid_upload_leaves_nothing(proxy: ApiClient, s3: Any) -> None:
    status, _ = send_raw(
        proxy.app,
        "PUT",
        f"{PROXY}/partial/file.bin",
        body=b"x" * (9 * MIB),
        disconnect=True,
    )

    assert status == 400
    assert keys(s3) == set()
    assert pending_uploads(s3) == []


@pytest.mark.parametrize(
    ("range_header", "expected", "content_range"),
    [
        ("bytes=2-5", b"2345", "bytes 2-5/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
    ],
)
def test_download_honours_a_single_range(
    proxy: ApiClient, range_header: str, expected: bytes, content_range: str
) -> None:
    proxy.put(f"{PROXY}/digits.txt", content=b"0123456789")

    response = proxy.get(f"{PROXY}/digits.txt", headers={"Range": range_header})

    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("range_header", ["bytes=0-1,4-5", "items=1-2", "bytes=5-2"])
def test_other_ranges_get_the_whole_file(proxy: ApiClient, range_header: str) -> None:
    proxy.put(f"{PROXY}/digits.txt", content=b"0123456789")

    response = proxy.get(f"{PROXY}/digits.txt", headers={"Range": range_header})

    assert response.status_code == 200
    assert response.content == b"0123456789"


def test_unsatisfiable_range_is_416(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/digits.txt", content=b"0123456789")

    response = proxy.get(f"{PROXY}/digits.txt", headers={"Range": "bytes=20-30"})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10"


def test_download_missing_file_or_folder_is_404(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/folder/file.txt", content=b"x")

    assert_error(proxy.get(f"{PROXY}/nothing.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(proxy.get(f"{PROXY}/folder"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_list_gives_basenames_and_sizes(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/run/artifacts/a.txt", content=b"12345")
    proxy.put(f"{PROXY}/run/artifacts/sub/b.txt", content=b"1")

    listed = proxy.get(PROXY, params={"path": "run/artifacts"})
    root = proxy.get(PROXY)

    assert listed.json() == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "sub", "is_dir": True},
        ]
    }
    assert root.json() == {"files": [{"path": "run", "is_dir": True}]}


@pytest.mark.parametrize("path", ["missing", "run/a.txt"])
def test_list_of_missing_folder_or_file_is_empty(proxy: ApiClient, path: str) -> None:
    proxy.put(f"{PROXY}/run/a.txt", content=b"1")

    response = proxy.get(PROXY, params={"path": path})

    assert response.status_code == 200
    assert response.json() == {}


def test_delete_file_and_folder(proxy: ApiClient, s3: Any) -> None:
    proxy.put(f"{PROXY}/d/one.txt", content=b"1")
    proxy.put(f"{PROXY}/d/sub/two.txt", content=b"2")
    proxy.put(f"{PROXY}/kept.txt", content=b"3")

    answers = [
        proxy.delete(f"{PROXY}/{path}").json()
        for path in ("d/one.txt", "d/sub", "d/no")
    ]

    assert answers == [{}, {}, {}]
    assert keys(s3) == {f"{PREFIX}/kept.txt"}


def test_deleting_the_whole_destination_is_refused(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/kept.txt", content=b"3")

    status, _ = send_raw(proxy.app, "DELETE", f"{PROXY}/./")

    assert status == 400
    assert proxy.get(f"{PROXY}/kept.txt").content == b"3"


def test_upload_onto_a_folder_is_refused(proxy: ApiClient) -> None:
    proxy.put(f"{PROXY}/f/inner.txt", content=b"1")

    response = proxy.put(f"{PROXY}/f", content=b"2")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


TRAVERSALS = [
    "../escape.txt",
    "a/../../escape.txt",
    "%2e%2e/escape.txt",
    "%252e%252e/escape.txt",
    "a/%2e%2e%2f%2e%2e/escape.txt",
    "a%5c..%5cescape.txt",
    "a//escape.txt",
    "C:/escape.txt",
    "a/%00escape.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_refused_and_nothing_leaves_the_prefix(
    proxy: ApiClient, s3: Any, path: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key="escape.txt", Body=b"outside")
    put, _ = send_raw(proxy.app, "PUT", f"{PROXY}/{path}", body=b"evil")
    get, got = send_raw(proxy.app, "GET", f"{PROXY}/{path}")
    delete, _ = send_raw(proxy.app, "DELETE", f"{PROXY}/{path}")
    listed, _ = send_raw(proxy.app, "GET", PROXY, query=f"path={path}")
    mpu, _ = send_raw(
        proxy.app,
        "POST",
        f"{MPU}/create/{path}",
        body=b'{"path": "model.bin", "num_parts": 1}',
        headers={"content-type": "application/json"},
    )

    assert (put, get, delete, listed, mpu) == (400, 400, 400, 400, 400)
    assert b"outside" not in got
    assert keys(s3) == {"escape.txt"}
    assert pending_uploads(s3) == []


@pytest.fixture
def live_s3_server(s3: Any, tmp_path: Path) -> Iterator[str]:
    """A Kiln server on a loopback port whose artifact proxy stores in S3."""
    store = SqlStore(f"sqlite:///{tmp_path / 'server.db'}", "mlflow-artifacts:/")
    app = create_app(store, artifacts_destination=DESTINATION)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("The Kiln server did not start.")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        clear_stores()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def test_kiln_client_logs_and_downloads_through_an_s3_destination(
    live_s3_server: str, s3: Any, tmp_path: Path
) -> None:
    client = KilnClient(live_s3_server)
    experiment_id = client.create_experiment("s3")
    run_id = client.create_run(experiment_id).info.run_id
    report = tmp_path / "report.txt"
    report.write_text("accuracy: 0.9\n")

    client.log_artifact(run_id, str(report), "docs")
    landed = client.download_artifacts(run_id, "docs", str(tmp_path / "out"))

    assert (Path(landed) / "report.txt").read_text() == "accuracy: 0.9\n"
    assert keys(s3) == {f"{PREFIX}/{experiment_id}/{run_id}/artifacts/docs/report.txt"}


def test_kiln_server_starts_with_an_s3_destination(
    s3: Any, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The helper hands the server no KILN_* variables; MLflow's name works too.
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_endpoint)
    options = ("--artifacts-destination", DESTINATION)

    with running_server(tmp_path, *options) as (base_url, _):
        stored = httpx.put(f"{base_url}{PROXY}/cli/a.txt", content=b"from cli")
        fetched = httpx.get(f"{base_url}{PROXY}/cli/a.txt")

    assert stored.json() == {}
    assert fetched.content == b"from cli"
    assert keys(s3) == {f"{PREFIX}/cli/a.txt"}
    assert not (tmp_path / "artifacts").exists()
