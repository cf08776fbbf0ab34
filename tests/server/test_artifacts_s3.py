"""Run and logged-model artifacts read from an S3 destination (moto's server).

The listing (``artifacts/list``) and the UI's downloads (``/get-artifact``,
the logged model's ``artifacts/files``) read the server's own S3 prefix, and
never a bucket that a stored ``s3://`` location names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiln.store.sql.store import SqlStore

from .conftest import API, ApiClient, MakeClient, assert_error, create_run
from .moto_s3 import BUCKET, DESTINATION, PREFIX, keys, proxy, s3, s3_endpoint
from .processes import run_mlflow_client, running_server
from .test_artifacts import upload_to_run

# pytest finds the fixtures imported above by name.
__all__ = ["proxy", "s3", "s3_endpoint"]

LIST = f"{API}/artifacts/list"
MODELS = f"{API}/logged-models"
FILES = {
    "notes.txt": b"hello",
    "model/MLmodel": b"flavors: {}",
    "model/data/w.bin": b"\x00\x01\x02",
    "plots/loss.png": b"\x89PNG0123456789",
}


def upload_files(client: ApiClient, run_id: str) -> None:
    for path, content in FILES.items():
        upload_to_run(client, run_id, path, content)


def listing(client: ApiClient, run_id: str, path: str | None = None) -> Any:
    params = {"run_id": run_id, **({"path": path} if path else {})}
    response = client.get(LIST, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_run_listing_reads_the_s3_destination(proxy: ApiClient, s3: Any) -> None:
    run_id = create_run(proxy)
    upload_files(proxy, run_id)

    top = listing(proxy, run_id)
    model = listing(proxy, run_id, "model")

    assert top["root_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"
    assert top["files"] == [
        {"path": "model", "is_dir": True},
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
        {"path": "plots", "is_dir": True},
    ]
    assert model["files"] == [
        {"path": "model/MLmodel", "is_dir": False, "file_size": 11},
        {"path": "model/data", "is_dir": True},
    ]
    assert f"{PREFIX}/0/{run_id}/artifacts/model/data/w.bin" in keys(s3)


def test_s3_listing_matches_the_local_one(
    proxy: ApiClient, make_client: MakeClient
) -> None:
    local = make_client()
    s3_run, local_run = create_run(proxy), create_run(local)
    upload_files(proxy, s3_run)
    upload_files(local, local_run)

    for folder in (None, "model", "model/data", "plots", "notes.txt", "missing"):
        from_s3 = listing(proxy, s3_run, folder)
        from_disk = listing(local, local_run, folder)
        assert from_s3.pop("root_uri").replace(s3_run, "RUN") == from_disk.pop(
            "root_uri"
        ).replace(local_run, "RUN")
        assert from_s3 == from_disk, folder


def test_listing_of_run_without_artifacts_has_only_root(proxy: ApiClient) -> None:
    run_id = create_run(proxy)

    assert listing(proxy, run_id) == {
        "root_uri": f"mlflow-artifacts:/0/{run_id}/artifacts"
    }


def test_get_artifact_streams_the_object(proxy: ApiClient) -> None:
    run_id = create_run(proxy)
    upload_files(proxy, run_id)
    params = {"run_id": run_id, "path": "plots/loss.png"}

    whole = proxy.get("/get-artifact", params=params)
    part = proxy.get("/get-artifact", params=params, headers={"range": "bytes=4-7"})
    head = proxy.request("HEAD", "/get-artifact", params=params)

    assert whole.status_code == 200
    assert whole.content == FILES["plots/loss.png"]
    assert whole.headers["content-length"] == str(len(FILES["plots/loss.png"]))
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("attachment")
    assert part.status_code == 206
    assert part.content == b"0123"
    assert part.headers["content-range"] == "bytes 4-7/14"
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "14"


@pytest.mark.parametrize("path", ["missing.txt", "model", "model/data/"])
def test_get_artifact_of_missing_file_or_folder_is_404(
    proxy: ApiClient, path: str
) -> None:
    run_id = create_run(proxy)
    upload_files(proxy, run_id)

    response = proxy.get("/get-artifact", params={"run_id": run_id, "path": path})

    body = assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")
    assert run_id in body["message"]
    assert BUCKET not in body["message"]


def test_paths_cannot_leave_the_run(proxy: ApiClient) -> None:
    victim, attacker = create_run(proxy), create_run(proxy)
    upload_files(proxy, victim)
    escape = f"../../{victim}/artifacts/notes.txt"

    read = proxy.get("/get-artifact", params={"run_id": attacker, "path": escape})
    listed = proxy.get(LIST, params={"run_id": attacker, "path": f"../../{victim}"})

    assert_error(read, 400, "INVALID_PARAMETER_VALUE")
    assert_error(listed, 400, "INVALID_PARAMETER_VALUE")


def test_direct_s3_location_inside_the_destination_is_read(
    s3: Any, make_client: MakeClient
) -> None:
    client = make_client(artifacts_destination=DESTINATION)
    location = f"{DESTINATION}/direct"
    created = client.post(
        f"{API}/experiments/create",
        json={"name": "direct", "artifact_location": location},
    )
    run_id = create_run(client, created.json()["experiment_id"])
    key = f"{PREFIX}/direct/{run_id}/artifacts/out/result.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'{"ok": true}')

    listed = listing(client, run_id, "out")
    fetched = client.get(
        "/get-artifact", params={"run_id": run_id, "path": "out/result.json"}
    )

    assert listed["root_uri"] == f"{location}/{run_id}/artifacts"
    assert listed["files"] == [
        {"path": "out/result.json", "is_dir": False, "file_size": 12}
    ]
    assert fetched.content == b'{"ok": true}'


@pytest.mark.parametrize(
    "location",
    [
        "s3://elsewhere/root",
        f"s3://{BUCKET}/{PREFIX}-sibling/root",
        f"s3://{BUCKET}/team/other",
        f"s3://user@{BUCKET}/{PREFIX}/root",
        f"s3://{BUCKET}:9000/{PREFIX}/root",
    ],
)
def test_s3_locations_outside_the_destination_are_never_read(
    s3: Any, sql_store: SqlStore, make_client: MakeClient, location: str
) -> None:
    # An embedded client sharing the database may store any location; the
    # server reads only its own destination and leaves the rest to clients.
    s3.create_bucket(Bucket="elsewhere")
    experiment_id = sql_store.create_experiment(f"outside-{len(location)}", location)
    run = sql_store.create_run(experiment_id, "u", None, [], None)
    run_id = run.info.run_id
    for bucket, key in (
        ("elsewhere", f"root/{run_id}/artifacts/a.txt"),
        (BUCKET, f"{PREFIX}-sibling/root/{run_id}/artifacts/a.txt"),
        (BUCKET, f"team/other/{run_id}/artifacts/a.txt"),
    ):
        s3.put_object(Bucket=bucket, Key=key, Body=b"secret")
    client = make_client(artifacts_destination=DESTINATION)

    listed = client.get(LIST, params={"run_id": run_id})
    read = client.get("/get-artifact", params={"run_id": run_id, "path": "a.txt"})

    for response in (listed, read):
        body = assert_error(response, 501, "NOT_IMPLEMENTED")
        assert "'s3'" in body["message"]
        assert "secret" not in response.text
    for item in s3.list_objects_v2(Bucket="elsewhere")["Contents"]:
        s3.delete_object(Bucket="elsewhere", Key=item["Key"])
    s3.delete_bucket(Bucket="elsewhere")


def test_proxy_locations_need_the_proxy_on(s3: Any, make_client: MakeClient) -> None:
    client = make_client(artifacts_destination=DESTINATION, serve_artifacts=False)
    run_id = create_run(client)

    response = client.get(LIST, params={"run_id": run_id})

    body = assert_error(response, 501, "NOT_IMPLEMENTED")
    assert "--serve-artifacts" in body["message"]


def test_logged_model_files_are_read_from_s3(proxy: ApiClient) -> None:
    created = proxy.post(MODELS, json={"experiment_id": "0", "name": "m"})
    model = created.json()["model"]
    model_id = model["info"]["model_id"]
    folder = model["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxy.put(f"/api/2.0/mlflow-artifacts/artifacts/{folder}/MLmodel", content=b"f: 1")
    proxy.put(f"/api/2.0/mlflow-artifacts/artifacts/{folder}/sub/x.txt", content=b"x")

    top = proxy.get(f"{MODELS}/{model_id}/artifacts/directories")
    url = f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files"
    fetched = proxy.get(url, params={"artifact_file_path": "sub/x.txt"})
    missing = proxy.get(url, params={"artifact_file_path": "sub/y.txt"})

    assert top.json() == {
        "root_uri": model["info"]["artifact_uri"],
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": 4},
            {"path": "sub", "is_dir": True},
        ],
    }
    assert fetched.status_code == 200 and fetched.content == b"x"
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


FLOW = Path(__file__).with_name("scripts") / "mlflow_s3_listing_flow.py"


@pytest.mark.slow
def test_server_listing_agrees_with_the_stock_mlflow_client(
    s3: Any,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_python: str,
) -> None:
    import httpx

    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_endpoint)

    with running_server(tmp_path, "--artifacts-destination", DESTINATION) as (url, _):
        result = run_mlflow_client(mlflow_python, str(FLOW), url)
        assert result.returncode == 0, result.stderr[-3000:]
        seen = json.loads(result.stdout.splitlines()[-1])
        run_id = seen["run_id"]
        served = {
            folder: httpx.get(
                f"{url}{LIST}", params={"run_id": run_id, "path": folder}
            ).json()["files"]
            for folder in seen["listings"]
        }
        fetched = httpx.get(
            f"{url}/get-artifact", params={"run_id": run_id, "path": "tree/top.txt"}
        )

    assert served == seen["listings"]
    assert fetched.content == b"top"
    assert all(key.startswith(f"{PREFIX}/") for key in keys(s3))
