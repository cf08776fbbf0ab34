from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import API, ApiClient, assert_error, create_experiment, create_run

MODELS = f"{API}/logged-models"


def create_model(client: ApiClient, experiment_id: str = "0", **fields: Any) -> Any:
    body = {"experiment_id": experiment_id, "name": "model", **fields}
    response = client.post(MODELS, json=body)
    assert response.status_code == 200, response.text
    return response.json()["model"]


def test_create_logged_model_answers_mlflow_shape(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "models")
    run_id = create_run(client, experiment_id)

    model = create_model(
        client,
        experiment_id,
        source_run_id=run_id,
        model_type="sklearn",
        params=[{"key": "alpha", "value": "0.5"}],
        tags=[{"key": "mlflow.source.name", "value": "train.py"}],
    )

    info = model["info"]
    assert info["model_id"].startswith("m-") and len(info["model_id"]) == 34
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == (
        f"mlflow-artifacts:/{experiment_id}/models/{info['model_id']}/artifacts"
    )
    assert info["experiment_id"] == experiment_id
    assert (info["name"], info["source_run_id"]) == ("model", run_id)
    assert info["creation_timestamp_ms"] == info["last_updated_timestamp_ms"]
    assert info["tags"] == [{"key": "mlflow.source.name", "value": "train.py"}]
    assert model["data"] == {"params": [{"key": "alpha", "value": "0.5"}]}


def test_get_finalize_and_delete_by_path(client: ApiClient) -> None:
    model_id = create_model(client)["info"]["model_id"]

    got = client.get(f"{MODELS}/{model_id}")
    assert got.status_code == 200
    assert got.json()["model"]["info"]["model_id"] == model_id

    # MLflow's client sends the id in the body as well, and the status by name.
    body = {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    final = client.request("PATCH", f"{MODELS}/{model_id}", json=body)
    assert final.status_code == 200, final.text
    assert final.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"

    assert client.request("DELETE", f"{MODELS}/{model_id}").status_code == 200
    assert_error(client.get(f"{MODELS}/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    deleted = client.get(f"{MODELS}/{model_id}", params={"allow_deleted": "true"})
    assert deleted.status_code == 200


@pytest.mark.parametrize(
    ("status", "expected"),
    [(3, "LOGGED_MODEL_UPLOAD_FAILED"), ("2", "LOGGED_MODEL_READY")],
)
def test_finalize_accepts_status_numbers(
    client: ApiClient, status: object, expected: str
) -> None:
    model_id = create_model(client)["info"]["model_id"]
    answer = client.request("PATCH", f"{MODELS}/{model_id}", json={"status": status})
    assert answer.json()["model"]["info"]["status"] == expected


def test_finalize_needs_a_status(client: ApiClient) -> None:
    model_id = create_model(client)["info"]["model_id"]
    answer = client.request("PATCH", f"{MODELS}/{model_id}", json={})
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_tags_and_params_endpoints(client: ApiClient) -> None:
    model_id = create_model(client)["info"]["model_id"]
    tags = [
        {"key": "mlflow.modelVersions", "value": "[]"},
        {"key": "a/b", "value": "1"},
    ]
    answer = client.request("PATCH", f"{MODELS}/{model_id}/tags", json={"tags": tags})
    assert answer.status_code == 200, answer.text
    params = {"model_id": model_id, "params": [{"key": "k", "value": "v"}]}
    assert client.post(f"{MODELS}/{model_id}/params", json=params).status_code == 200

    removed = client.request("DELETE", f"{MODELS}/{model_id}/tags/a/b")
    assert removed.status_code == 200, removed.text
    model = client.get(f"{MODELS}/{model_id}").json()["model"]
    assert model["info"]["tags"] == [tags[0]]
    assert model["data"]["params"] == [{"key": "k", "value": "v"}]
    missing = client.request("DELETE", f"{MODELS}/{model_id}/tags/a/b")
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_unknown_model_is_404_everywhere(client: ApiClient) -> None:
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"status": "LOGGED_MODEL_READY"}),
        ("DELETE", "", None),
        ("PATCH", "/tags", {"tags": [{"key": "a", "value": "b"}]}),
        ("POST", "/params", {"params": [{"key": "a", "value": "b"}]}),
    ]:
        answer = client.request(method, f"{MODELS}/m-missing{suffix}", json=body)
        assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_by_name_as_runs_uris_resolve(client: ApiClient) -> None:
    create_model(client, name="model")
    other = create_model(client, name="other")
    body = {
        "experiment_ids": ["0"],
        "filter": "name = 'other'",
        "order_by": [{"field_name": "creation_timestamp", "ascending": False}],
        "max_results": 2,
    }
    answer = client.post(f"{MODELS}/search", json=body)
    assert answer.status_code == 200, answer.text
    assert [m["info"]["model_id"] for m in answer.json()["models"]] == [
        other["info"]["model_id"]
    ]
    none = client.post(f"{MODELS}/search", json={**body, "filter": "name = 'x'"})
    assert none.json() == {}


def test_search_pages_and_refuses_bad_filters(client: ApiClient) -> None:
    for name in ("a", "b", "c"):
        create_model(client, name=name)
    first = client.post(
        f"{MODELS}/search", json={"experiment_ids": ["0"], "max_results": 2}
    )
    token = first.json()["next_page_token"]
    body = {"experiment_ids": ["0"], "max_results": 2, "page_token": token}
    second = client.post(f"{MODELS}/search", json=body)
    assert [m["info"]["name"] for m in second.json()["models"]] == ["a"]
    bad = client.post(
        f"{MODELS}/search", json={"experiment_ids": ["0"], "filter": "nope = 1"}
    )
    assert_error(bad, 400, "INVALID_PARAMETER_VALUE")


def test_model_metrics_come_from_run_metrics_with_model_id(client: ApiClient) -> None:
    run_id = create_run(client)
    model_id = create_model(client, source_run_id=run_id)["info"]["model_id"]
    metric = {
        "key": "acc",
        "value": 0.9,
        "timestamp": 5,
        "step": 1,
        "model_id": model_id,
    }
    batch = {"run_id": run_id, "metrics": [metric]}
    assert client.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    outputs = {"run_id": run_id, "models": [{"model_id": model_id, "step": 1}]}
    assert client.post(f"{API}/runs/outputs", json=outputs).status_code == 200

    model = client.get(f"{MODELS}/{model_id}").json()["model"]
    assert model["data"]["metrics"] == [{**metric, "run_id": run_id}]
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 1}]}


def test_model_artifacts_list_and_download(
    client: ApiClient, artifacts_root: Path
) -> None:
    model = create_model(client)
    model_id = model["info"]["model_id"]
    folder = artifacts_root / "0" / "models" / model_id / "artifacts"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub" / "x.txt").write_text("x")

    listing = client.get(f"{MODELS}/{model_id}/artifacts/directories")
    assert listing.status_code == 200, listing.text
    assert listing.json() == {
        "root_uri": model["info"]["artifact_uri"],
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": 12},
            {"path": "sub", "is_dir": True},
        ],
    }
    inner = client.get(
        f"{MODELS}/{model_id}/artifacts/directories",
        params={"artifact_directory_path": "sub"},
    )
    assert inner.json()["files"] == [
        {"path": "sub/x.txt", "is_dir": False, "file_size": 1}
    ]

    url = f"/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files"
    download = client.get(url, params={"artifact_file_path": "MLmodel"})
    assert download.status_code == 200
    assert download.content == b"flavors: {}\n"
    escape = client.get(url, params={"artifact_file_path": "../../../../kiln.db"})
    assert escape.status_code in (400, 403, 404)
    assert_error(client.get(url), 400, "BAD_REQUEST")
