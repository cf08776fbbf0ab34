from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .conftest import ApiClient, MakeClient, assert_error, send_raw

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def test_upload_download_round_trip(client: ApiClient, artifacts_root: Path) -> None:
    uploaded = client.put(f"{PROXY}/1/run/artifacts/model/weights.bin", content=b"abc")

    downloaded = client.get(f"{PROXY}/1/run/artifacts/model/weights.bin")

    assert uploaded.status_code == 200 and uploaded.json() == {}
    assert (artifacts_root / "1/run/artifacts/model/weights.bin").read_bytes() == b"abc"
    assert downloaded.status_code == 200
    assert downloaded.content == b"abc"
    assert downloaded.headers["content-length"] == "3"
    assert downloaded.headers["accept-ranges"] == "bytes"
    assert "attachment" in downloaded.headers["content-disposition"]


def test_upload_replaces_an_existing_file(client: ApiClient) -> None:
    client.put(f"{PROXY}/a.txt", content=b"old contents")
    client.put(f"{PROXY}/a.txt", content=b"new")

    assert client.get(f"{PROXY}/a.txt").content == b"new"


def test_upload_streams_a_large_body_to_disk(
    client: ApiClient, artifacts_root: Path
) -> None:
    chunk = os.urandom(256 * 1024)
    count = 24  # 6 MiB, sent in pieces as a streaming client would
    expected = hashlib.sha256(chunk * count).hexdigest()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    response = client.put(f"{PROXY}/big/blob.bin", content=body())

    assert response.status_code == 200, response.text
    stored = (artifacts_root / "big/blob.bin").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == expected
    assert os.listdir(artifacts_root / "big") == ["blob.bin"]


@pytest.mark.parametrize(
    ("range_header", "status", "expected", "content_range"),
    [
        ("bytes=2-5", 206, b"2345", "bytes 2-5/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=-2", 206, b"89", "bytes 8-9/10"),
    ],
)
def test_download_honours_a_single_range(
    client: ApiClient,
    range_header: str,
    status: int,
    expected: bytes,
    content_range: str,
) -> None:
    client.put(f"{PROXY}/digits.txt", content=b"0123456789")

    response = client.get(f"{PROXY}/digits.txt", headers={"Range": range_header})

    assert response.status_code == status
    assert response.content == expected
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))


def test_unsatisfiable_range_is_416(client: ApiClient) -> None:
    client.put(f"{PROXY}/digits.txt", content=b"0123456789")

    response = client.get(f"{PROXY}/digits.txt", headers={"Range": "bytes=20-30"})

    assert response.status_code == 416


def test_download_missing_file_or_folder_is_404(client: ApiClient) -> None:
    client.put(f"{PROXY}/folder/file.txt", content=b"x")

    assert_error(client.get(f"{PROXY}/nothing.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(client.get(f"{PROXY}/folder"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_html_artifacts_are_not_served_as_html(client: ApiClient) -> None:
    client.put(f"{PROXY}/page.html", content=b"<script>alert(1)</script>")

    response = client.get(f"{PROXY}/page.html")

    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_list_gives_basenames_and_sizes(client: ApiClient) -> None:
    client.put(f"{PROXY}/run/artifacts/a.txt", content=b"12345")
    client.put(f"{PROXY}/run/artifacts/sub/b.txt", content=b"1")

    response = client.get(PROXY, params={"path": "run/artifacts"})

    assert response.json() == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "sub", "is_dir": True},
        ]
    }


@pytest.mark.parametrize("path", ["missing", "run/a.txt"])
def test_list_of_missing_folder_or_file_is_empty(client: ApiClient, path: str) -> None:
    client.put(f"{PROXY}/run/a.txt", content=b"1")

    response = client.get(PROXY, params={"path": path})

    assert response.status_code == 200
    assert response.json() == {}


def test_list_without_path_lists_the_root(client: ApiClient) -> None:
    client.put(f"{PROXY}/top.txt", content=b"1")

    response = client.get(PROXY)

    assert response.json()["files"] == [
        {"path": "top.txt", "is_dir": False, "file_size": 1}
    ]


def test_delete_file_and_folder(client: ApiClient, artifacts_root: Path) -> None:
    client.put(f"{PROXY}/d/one.txt", content=b"1")
    client.put(f"{PROXY}/d/sub/two.txt", content=b"2")

    one = client.delete(f"{PROXY}/d/one.txt")
    sub = client.delete(f"{PROXY}/d/sub")
    missing = client.delete(f"{PROXY}/d/nothing")

    assert [r.json() for r in (one, sub, missing)] == [{}, {}, {}]
    assert os.listdir(artifacts_root / "d") == []


def test_upload_onto_a_folder_is_refused(client: ApiClient) -> None:
    client.put(f"{PROXY}/f/inner.txt", content=b"1")

    response = client.put(f"{PROXY}/f", content=b"2")

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_ajax_api_mirrors_the_proxy(client: ApiClient) -> None:
    client.put("/ajax-api/2.0/mlflow-artifacts/artifacts/m.txt", content=b"m")

    assert client.get(f"{PROXY}/m.txt").content == b"m"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"{PROXY}/a.txt"),
        ("GET", f"{PROXY}/a.txt"),
        ("GET", PROXY),
        ("DELETE", f"{PROXY}/a.txt"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/create/a"),
    ],
)
def test_proxy_routes_answer_503_when_not_serving_artifacts(
    make_client: MakeClient, method: str, path: str
) -> None:
    client = make_client(serve_artifacts=False)

    response = client.request(method, path, json={"path": "x"})

    assert_error(response, 503, "TEMPORARILY_UNAVAILABLE")


@pytest.mark.parametrize("action", ["create", "complete", "abort"])
def test_multipart_upload_is_not_implemented_on_local_storage(
    client: ApiClient, action: str
) -> None:
    response = client.post(
        f"/api/2.0/mlflow-artifacts/mpu/{action}/run/artifacts",
        json={"path": "model.bin", "num_parts": 2},
    )

    assert_error(response, 501, "NOT_IMPLEMENTED")


def test_unsupported_destination_is_refused_naming_the_scheme(
    make_client: MakeClient,
) -> None:
    from kiln.errors import NotImplementedFeature

    with pytest.raises(NotImplementedFeature, match="'gs'"):
        make_client(artifacts_destination="gs://bucket/artifacts")


def test_client_leaving_mid_upload_leaves_nothing(
    client: ApiClient, artifacts_root: Path
) -> None:
    status, _ = send_raw(
        client.app,
        "PUT",
        f"{PROXY}/partial/file.bin",
        body=b"x" * 1000,
        disconnect=True,
    )

    assert status == 400
    assert os.listdir(artifacts_root / "partial") == []


def test_uploaded_files_get_the_usual_mode(
    client: ApiClient, artifacts_root: Path
) -> None:
    umask = os.umask(0)
    os.umask(umask)

    client.put(f"{PROXY}/mode.txt", content=b"x")

    assert stat.S_IMODE((artifacts_root / "mode.txt").stat().st_mode) == 0o666 & ~umask


def test_listing_hides_uploads_in_progress(
    client: ApiClient, artifacts_root: Path
) -> None:
    from kiln.server.destination import TEMP_PREFIX

    (artifacts_root / "run").mkdir()
    (artifacts_root / "run" / f"{TEMP_PREFIX}0123").write_bytes(b"half")
    client.put(f"{PROXY}/run/done.txt", content=b"all")

    response = client.get(PROXY, params={"path": "run"})

    assert response.json() == {
        "files": [{"path": "done.txt", "is_dir": False, "file_size": 3}]
    }
