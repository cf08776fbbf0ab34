from __future__ import annotations

from typing import Any

import pytest

from .conftest import API, ApiClient, assert_error, create_run

MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _register(client: ApiClient, name: str = "m", versions: int = 1) -> str:
    _ok(client.post(f"{MODELS}/create", json={"name": name}))
    run_id = create_run(client)
    for _ in range(versions):
        body = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
        _ok(client.post(f"{VERSIONS}/create", json=body))
    return run_id


def test_create_and_get_registered_model_answer_mlflow_shape(
    client: ApiClient,
) -> None:
    body = {"name": "m", "description": "d", "tags": [{"key": "k", "value": "v"}]}
    created = _ok(client.post(f"{MODELS}/create", json=body))["registered_model"]
    assert created["name"] == "m" and created["description"] == "d"
    assert created["tags"] == [{"key": "k", "value": "v"}]
    assert created["creation_timestamp"] == created["last_updated_timestamp"]
    assert "latest_versions" not in created and "aliases" not in created
    got = _ok(client.get(f"{MODELS}/get", params={"name": "m"}))
    assert got["registered_model"] == created


def test_registered_model_errors(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    assert_error(
        client.post(f"{MODELS}/create", json={"name": "m"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert_error(
        client.post(f"{MODELS}/create", json={"name": "a/b"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        client.get(f"{MODELS}/get", params={"name": "x"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_version_create_get_and_download_uri(client: ApiClient) -> None:
    run_id = _register(client)
    version = _ok(client.get(f"{VERSIONS}/get", params={"name": "m", "version": "1"}))
    shown = version["model_version"]
    assert shown["version"] == "1" and shown["status"] == "READY"
    assert shown["current_stage"] == "None" and shown["run_id"] == run_id
    uri = _ok(
        client.get(f"{VERSIONS}/get-download-uri", params={"name": "m", "version": "1"})
    )
    assert uri == {"artifact_uri": f"mlflow-artifacts:/0/{run_id}/artifacts/model"}
    assert_error(
        client.get(f"{VERSIONS}/get", params={"name": "m", "version": "9"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "file:///etc",
        "mlflow-artifacts:/0/{run}/artifacts/%2e%2e/%2e%2e/x",
        "mlflow-artifacts:/0/other",
        "s3://bucket/0/{run}/artifacts/model",
        "https://example.com/0/{run}/artifacts/model",
    ],
)
def test_version_sources_outside_the_run_are_400(
    client: ApiClient, source: str
) -> None:
    run_id = _register(client, versions=0)
    body = {"name": "m", "source": source.format(run=run_id), "run_id": run_id}
    assert_error(
        client.post(f"{VERSIONS}/create", json=body), 400, "INVALID_PARAMETER_VALUE"
    )


def test_aliases_on_the_wire(client: ApiClient) -> None:
    _register(client, versions=2)
    body = {"name": "m", "alias": "champion", "version": "2"}
    assert _ok(client.post(f"{MODELS}/alias", json=body)) == {}
    got = _ok(client.get(f"{MODELS}/alias", params={"name": "m", "alias": "champion"}))
    assert got["model_version"]["version"] == "2"
    assert got["model_version"]["aliases"] == ["champion"]
    model = _ok(client.get(f"{MODELS}/search"))["registered_models"][0]
    assert model["aliases"] == [{"alias": "champion", "version": "2"}]
    versions = _ok(client.get(f"{VERSIONS}/search", params={"filter": "name='m'"}))
    assert [v.get("aliases") for v in versions["model_versions"]] == [
        ["champion"],
        None,
    ]
    gone = {"name": "m", "alias": "champion"}
    assert _ok(client.request("DELETE", f"{MODELS}/alias", json=gone)) == {}
    assert _ok(client.request("DELETE", f"{MODELS}/alias", json=gone)) == {}
    assert_error(
        client.get(f"{MODELS}/alias", params=gone), 400, "INVALID_PARAMETER_VALUE"
    )
    for reserved in ("latest", "V3"):
        body = {"name": "m", "alias": reserved, "version": "1"}
        assert_error(
            client.post(f"{MODELS}/alias", json=body), 400, "INVALID_PARAMETER_VALUE"
        )
    body = {"name": "m", "alias": "a", "version": "7"}
    assert_error(
        client.post(f"{MODELS}/alias", json=body), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_transition_stage_and_latest_versions(client: ApiClient) -> None:
    _register(client, versions=2)
    for version in ("1", "2"):
        body = {
            "name": "m",
            "version": version,
            "stage": "production",
            "archive_existing_versions": True,
        }
        moved = _ok(client.post(f"{VERSIONS}/transition-stage", json=body))
        assert moved["model_version"]["current_stage"] == "Production"
    latest = _ok(client.post(f"{MODELS}/get-latest-versions", json={"name": "m"}))[
        "model_versions"
    ]
    assert {(v["version"], v["current_stage"]) for v in latest} == {
        ("1", "Archived"),
        ("2", "Production"),
    }
    by_get = _ok(
        client.get(
            f"{MODELS}/get-latest-versions",
            params={"name": "m", "stages": "Production"},
        )
    )
    assert [v["version"] for v in by_get["model_versions"]] == ["2"]
    bad = {
        "name": "m",
        "version": "1",
        "stage": "Nope",
        "archive_existing_versions": False,
    }
    assert_error(
        client.post(f"{VERSIONS}/transition-stage", json=bad),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    archive = {**bad, "stage": "Archived", "archive_existing_versions": True}
    assert_error(
        client.post(f"{VERSIONS}/transition-stage", json=archive),
        500,
        "INTERNAL_ERROR",
    )


def test_rename_update_tags_and_delete(client: ApiClient) -> None:
    _register(client)
    renamed = _ok(client.post(f"{MODELS}/rename", json={"name": "m", "new_name": "n"}))[
        "registered_model"
    ]
    assert renamed["name"] == "n"
    assert renamed["latest_versions"][0]["name"] == "n"
    described = _ok(
        client.request(
            "PATCH", f"{MODELS}/update", json={"name": "n", "description": "x"}
        )
    )
    assert described["registered_model"]["description"] == "x"
    patched = _ok(
        client.request(
            "PATCH",
            f"{VERSIONS}/update",
            json={"name": "n", "version": "1", "description": "y"},
        )
    )
    assert patched["model_version"]["description"] == "y"
    tag = {"name": "n", "key": "k", "value": "v"}
    _ok(client.post(f"{MODELS}/set-tag", json=tag))
    _ok(client.post(f"{VERSIONS}/set-tag", json={**tag, "version": "1"}))
    got = _ok(client.get(f"{VERSIONS}/get", params={"name": "n", "version": "1"}))
    assert got["model_version"]["tags"] == [{"key": "k", "value": "v"}]
    missing = {"name": "n", "key": "absent"}
    _ok(client.request("DELETE", f"{MODELS}/delete-tag", json=missing))
    _ok(
        client.request(
            "DELETE", f"{VERSIONS}/delete-tag", json={**missing, "version": "1"}
        )
    )
    one = {"name": "n", "version": "1"}
    _ok(client.request("DELETE", f"{VERSIONS}/delete", json=one))
    _ok(client.request("DELETE", f"{MODELS}/delete", json={"name": "n"}))
    assert _ok(client.get(f"{MODELS}/search")) == {}


def test_searches_page_and_mirror_under_ajax_api(client: ApiClient) -> None:
    for name in ("a", "b", "c"):
        _ok(client.post(f"{MODELS}/create", json={"name": name}))
    first = _ok(client.get(f"{MODELS}/search", params={"max_results": 2}))
    assert [m["name"] for m in first["registered_models"]] == ["a", "b"]
    rest = _ok(
        client.get(
            "/ajax-api/2.0/mlflow/registered-models/search",
            params={"max_results": 2, "page_token": first["next_page_token"]},
        )
    )
    assert [m["name"] for m in rest["registered_models"]] == ["c"]
    assert "next_page_token" not in rest
    assert_error(
        client.get(f"{MODELS}/search", params={"filter": "tags.k IS NULL"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
