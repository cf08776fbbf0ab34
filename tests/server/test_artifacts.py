"""A run's artifacts through the tracking API: listing and the UI's download."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.store.sql.store import SqlStore

from .conftest import API, ApiClient, MakeClient, assert_error, create_run

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def upload_to_run(client: ApiClient, run_id: str, path: str, content: bytes) -> None:
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    relative = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    response = client.put(f"{PROXY}/{relative}/{path}", content=content)
    assert response.status_code == 200, response.text


def test_list_run_artifacts_with_paths_relative_to_the_run(client: ApiClient) -> None:
    run_id = create_run(client)
    upload_to_run(client, run_id, "model/MLmodel", b"flavors: {}")
    upload_to_run(client, run_id, "notes.txt", b"hello")

    top = client.get(f"{API}/artifacts/list", params={"run_id": run_id}).json()
    inner = client.get(
        f"{API}/artifacts/list", params={"run_id": run_id, "path": "model"}
    ).json()

    assert top["root_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"
    assert top["files"] == [
        {"path": "model", "is_dir": True},
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
    ]
    assert inner["files"] == [
        {"path": "model/MLmodel", "is_dir": False, "file_size": 11}
    ]


def test_list_of_run_without_artifacts_has_only_root(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.get(f"{API}/artifacts/list", params={"run_id": run_id})

    assert response.json() == {"root_uri": f"mlflow-artifacts:/0/{run_id}/artifacts"}


def test_list_refuses_traversal(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.get(
        f"{API}/artifacts/list", params={"run_id": run_id, "path": "../.."}
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_list_for_unknown_run_is_404(client: ApiClient) -> None:
    response = client.get(f"{API}/artifacts/list", params={"run_id": "f" * 32})

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_get_artifact_downloads_a_run_file(client: ApiClient) -> None:
    run_id = create_run(client)
    upload_to_run(client, run_id, "plots/loss.png", b"\x89PNG...")

    response = client.get(
        "/get-artifact", params={"run_id": run_id, "path": "plots/loss.png"}
    )

    assert response.status_code == 200
    assert response.content == b"\x89PNG..."
    assert response.headers["content-type"] == "image/png"
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize("path", ["missing.txt", "../../../../etc/passwd"])
def test_get_artifact_refuses_missing_and_escaping_paths(
    client: ApiClient, path: str
) -> None:
    run_id = create_run(client)

    response = client.get("/get-artifact", params={"run_id": run_id, "path": path})

    assert response.status_code in (400, 404)
    assert "root:" not in response.text


def test_run_with_local_location_outside_roots_is_not_read(
    make_client: MakeClient, sql_store: SqlStore, tmp_path: Path
) -> None:
    # An embedded client sharing the database may store any local location;
    # the server still reads only inside its own roots.
    outside = tmp_path / "elsewhere"
    (outside / "secret").mkdir(parents=True)
    experiment_id = sql_store.create_experiment("direct", str(outside))
    run = sql_store.create_run(experiment_id, "u", None, [], None)
    client = make_client()

    response = client.get(f"{API}/artifacts/list", params={"run_id": run.info.run_id})

    assert_error(response, 403, "PERMISSION_DENIED")


def test_run_with_local_location_inside_roots_is_listed(
    sql_store: SqlStore, tmp_path: Path, make_client: MakeClient
) -> None:
    root = tmp_path / "local-root"
    experiment_id = sql_store.create_experiment("local", str(root / "exp"))
    run = sql_store.create_run(experiment_id, "u", None, [], None)
    artifacts = Path(run.info.artifact_uri)
    artifacts.mkdir(parents=True)
    (artifacts / "a.txt").write_bytes(b"abc")
    client = make_client(serve_artifacts=False, artifacts_destination=str(root))

    response = client.get(f"{API}/artifacts/list", params={"run_id": run.info.run_id})

    assert response.json()["files"] == [
        {"path": "a.txt", "is_dir": False, "file_size": 3}
    ]


def test_run_on_s3_is_not_implemented_yet(
    sql_store: SqlStore, make_client: MakeClient
) -> None:
    client = make_client(default_artifact_root="s3://bucket/root")
    created = client.post(
        f"{API}/experiments/create",
        json={"name": "s3", "artifact_location": "s3://bucket/root/s3"},
    )
    run_id = create_run(client, created.json()["experiment_id"])

    response = client.get(f"{API}/artifacts/list", params={"run_id": run_id})

    body = assert_error(response, 501, "NOT_IMPLEMENTED")
    assert "'s3'" in body["message"]
