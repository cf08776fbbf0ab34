"""Kiln's registry history endpoints, and who and why every registry change
records, through the server."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from .conftest import API, ApiClient, assert_error, create_run

MODELS = f"{API}/registered-models"
VERSIONS = f"{API}/model-versions"
KILN = "/api/2.0/kiln"
HISTORY = f"{KILN}/registered-models/history"
ROLLBACK = f"{KILN}/registered-models/alias/rollback"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _basic(user: str, password: str = "secret") -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _register(client: ApiClient, versions: int = 3, **kwargs: Any) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}, **kwargs))
    run_id = create_run(client)
    body = {"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id}
    for _ in range(versions):
        _ok(client.post(f"{VERSIONS}/create", json=body, **kwargs))


def _set_alias(client: ApiClient, version: str, **kwargs: Any) -> None:
    body = {"name": "m", "alias": "champion", "version": version}
    _ok(client.post(f"{MODELS}/alias", json=body, **kwargs))


def _history(client: ApiClient, **params: Any) -> Any:
    return _ok(client.get(HISTORY, params={"name": "m", **params}))


def test_history_lists_moves_newest_first_in_kiln_json(client: ApiClient) -> None:
    _register(client)
    _set_alias(client, "1")
    _set_alias(client, "2")
    body = {"name": "m", "version": "1", "stage": "Staging"}
    _ok(client.post(f"{VERSIONS}/transition-stage", json=body))

    answer = _history(client)

    entries = answer["history"]
    assert "next_page_token" not in answer
    assert [e["kind"] for e in entries] == ["stage", "alias", "alias"]
    stage, moved, first = entries
    assert stage["version"] == "1" and stage["previous_stage"] == "None"
    assert stage["stage"] == "Staging" and "alias" not in stage
    assert (moved["previous_version"], moved["version"]) == ("1", "2")
    assert "previous_version" not in first and first["version"] == "1"
    assert moved["name"] == "m" and moved["alias"] == "champion"
    assert isinstance(moved["id"], int) and moved["timestamp"] > 0
    assert "user_id" not in moved and "reason" not in moved


def test_history_filters_and_pages(client: ApiClient) -> None:
    _register(client)
    for version in ("1", "2", "3"):
        _set_alias(client, version)
    _ok(
        client.post(
            f"{VERSIONS}/transition-stage",
            json={"name": "m", "version": "3", "stage": "Production"},
        )
    )

    assert len(_history(client, alias="champion")["history"]) == 3
    assert [e["kind"] for e in _history(client, kind="stage")["history"]] == ["stage"]
    first = _history(client, max_results=2)
    assert len(first["history"]) == 2
    rest = _history(client, max_results=2, page_token=first["next_page_token"])
    assert [e["version"] for e in rest["history"]] == ["2", "1"]
    assert "next_page_token" not in rest
    ajax = client.get("/ajax-api/2.0/kiln/registered-models/history?name=m")
    assert _ok(ajax) == _history(client)


def test_history_errors(client: ApiClient) -> None:
    _register(client, versions=1)
    assert_error(client.get(HISTORY), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        client.get(HISTORY, params={"name": "nope"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    for params in ({"kind": "tag"}, {"alias": "a", "kind": "stage"}):
        assert_error(
            client.get(HISTORY, params={"name": "m", **params}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
    assert_error(
        client.get(HISTORY, params={"name": "m", "max_results": "5000"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_rollback_after_two_moves_answers_the_version(client: ApiClient) -> None:
    _register(client)
    for version in ("1", "2", "3"):
        _set_alias(client, version)

    body = {"name": "m", "alias": "champion", "reason": "Drift in 3"}
    answer = _ok(client.post(ROLLBACK, json=body, headers=_basic("ada")))

    assert answer["model_version"]["version"] == "2"
    assert answer["model_version"]["aliases"] == ["champion"]
    newest = _history(client)["history"][0]
    assert (newest["previous_version"], newest["version"]) == ("3", "2")
    assert (newest["reason"], newest["user_id"]) == ("Drift in 3", "ada")


def test_rollback_with_nothing_before_is_a_400(client: ApiClient) -> None:
    _register(client)
    _set_alias(client, "1")
    body = {"name": "m", "alias": "champion"}
    error = assert_error(
        client.post(ROLLBACK, json=body), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "no earlier version" in error["message"]
    assert_error(
        client.post(ROLLBACK, json={"name": "nope", "alias": "champion"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_error(
        client.post(ROLLBACK, json={"name": "m"}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_rollback_needs_a_json_body(client: ApiClient) -> None:
    # Like every state-changing call: a cross-site form cannot roll back.
    response = client.post(
        ROLLBACK,
        content=b"name=m&alias=champion",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_reasons_round_trip_through_kiln_endpoints(client: ApiClient) -> None:
    _register(client, versions=2)
    alias = {"name": "m", "alias": "champion", "version": "2", "reason": "Best AUC"}
    assert _ok(client.post(f"{KILN}/registered-models/alias", json=alias)) == {}
    stage = {
        "name": "m",
        "version": "2",
        "stage": "production",
        "archive_existing_versions": True,
        "reason": "Ship it",
    }
    moved = _ok(client.post(f"{KILN}/model-versions/transition-stage", json=stage))

    assert moved["model_version"]["current_stage"] == "Production"
    entries = _history(client)["history"]
    assert [(e["kind"], e["reason"]) for e in entries] == [
        ("stage", "Ship it"),
        ("alias", "Best AUC"),
    ]
    got = _ok(client.get(f"{MODELS}/alias", params={"name": "m", "alias": "champion"}))
    assert got["model_version"]["version"] == "2"


@pytest.mark.parametrize(
    ("headers", "user"),
    [
        (_basic("ada"), "ada"),
        (_basic("ada", ""), "ada"),
        ({}, None),
        ({"Authorization": "Bearer token-123"}, None),
        ({"Authorization": "Basic not-base64!"}, None),
    ],
)
def test_mlflow_endpoints_record_the_basic_user(
    client: ApiClient, headers: dict[str, str], user: str | None
) -> None:
    _register(client, versions=2, headers=headers)
    _set_alias(client, "1", headers=headers)
    body = {"name": "m", "version": "2", "stage": "Staging"}
    _ok(client.post(f"{VERSIONS}/transition-stage", json=body, headers=headers))
    delete = {"name": "m", "alias": "champion"}
    _ok(client.delete(f"{MODELS}/alias", json=delete, headers=headers))

    model = _ok(client.get(f"{MODELS}/get", params={"name": "m"}))
    version = _ok(client.get(f"{VERSIONS}/get", params={"name": "m", "version": "1"}))
    assert model["registered_model"].get("user_id") == user
    assert version["model_version"].get("user_id") == user
    entries = _history(client)["history"]
    assert len(entries) == 3
    assert [e.get("user_id") for e in entries] == [user] * 3
