"""Promotion rules over HTTP: Kiln's endpoints, and MLflow's alias endpoint
held to them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from .conftest import API, ApiClient, assert_error, create_run

KILN = "/api/2.0/kiln/registered-models/promotion-rules"
MODELS = f"{API}/registered-models"
BAD = "INVALID_PARAMETER_VALUE"
MISSING = "RESOURCE_DOES_NOT_EXIST"
RULE = "metrics.val_auc >= 0.9 AND tags.validated = 'true'"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _register(client: ApiClient, val_auc: float) -> str:
    """A new version of model ``m`` from a run that logged ``val_auc``."""
    run_id = create_run(client)
    metric = {"run_id": run_id, "key": "val_auc", "value": val_auc, "timestamp": 1}
    _ok(client.post(f"{API}/runs/log-metric", json=metric))
    body = {"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id}
    _ok(client.post(f"{API}/model-versions/create", json=body))
    return run_id


def _aliases(client: ApiClient) -> list[Any]:
    model = _ok(client.get(f"{MODELS}/get", params={"name": "m"}))
    return list(model["registered_model"].get("aliases", []))


def test_set_get_list_and_delete(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    body = {"name": "m", "alias": "champion", "rule": RULE}
    stored = _ok(client.post(f"{KILN}/set", json=body))["promotion_rule"]
    assert {k: stored[k] for k in ("name", "alias", "rule")} == body
    assert stored["creation_timestamp"] == stored["last_updated_timestamp"] > 0
    assert "user_id" not in stored

    got = _ok(client.get(f"{KILN}/get", params={"name": "m", "alias": "champion"}))
    assert got == {"promotion_rule": stored}
    ajax = client.get(
        "/ajax-api/2.0/kiln/registered-models/promotion-rules/list",
        params={"name": "m"},
    )
    assert _ok(ajax) == {"promotion_rules": [stored]}

    _ok(client.delete(f"{KILN}/delete", json={"name": "m", "alias": "champion"}))
    assert _ok(client.get(f"{KILN}/list", params={"name": "m"})) == {
        "promotion_rules": []
    }
    assert_error(
        client.get(f"{KILN}/get", params={"name": "m", "alias": "champion"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_delete_by_post_and_the_user_who_set_the_rule(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    credentials = base64.b64encode(b"ann:secret").decode()
    body = {"name": "m", "alias": "champion", "rule": RULE}
    headers = {"Authorization": f"Basic {credentials}"}
    stored = _ok(client.post(f"{KILN}/set", json=body, headers=headers))
    assert stored["promotion_rule"]["user_id"] == "ann"

    _ok(client.post(f"{KILN}/delete", json={"name": "m", "alias": "champion"}))
    assert (
        _ok(client.get(f"{KILN}/list", params={"name": "m"}))["promotion_rules"] == []
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"name": "nope", "alias": "a", "rule": RULE}, 404, MISSING, "'nope'"),
        ({"name": "m", "alias": "latest", "rule": RULE}, 400, BAD, "reserved"),
        ({"name": "m", "alias": "a", "rule": "metrics.x >"}, 400, BAD, "position 11"),
        (
            {"name": "m", "alias": "a", "rule": "current.metrics.x > 1"},
            400,
            BAD,
            "current. may only stand on the right",
        ),
        ({"name": "m", "alias": "a"}, 400, BAD, "rule"),
        ({"alias": "a", "rule": RULE}, 400, BAD, "name"),
    ],
)
def test_bad_rules_are_refused(
    client: ApiClient, body: dict[str, str], status: int, code: str, words: str
) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    answer = assert_error(client.post(f"{KILN}/set", json=body), status, code)
    assert words in answer["message"]


def test_rules_of_unknown_models_are_404(client: ApiClient) -> None:
    for response in (
        client.get(f"{KILN}/list", params={"name": "nope"}),
        client.get(f"{KILN}/get", params={"name": "nope", "alias": "a"}),
        client.delete(f"{KILN}/delete", json={"name": "nope", "alias": "a"}),
    ):
        assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_setting_a_rule_needs_a_json_body(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    response = client.post(
        f"{KILN}/set",
        content=b'{"name": "m", "alias": "a", "rule": "metrics.x > 1"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert (
        _ok(client.get(f"{KILN}/list", params={"name": "m"}))["promotion_rules"] == []
    )


def test_mlflow_alias_endpoint_is_held_to_the_rule(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    run_id = _register(client, 0.85)
    _ok(
        client.post(
            f"{KILN}/set", json={"name": "m", "alias": "champion", "rule": RULE}
        )
    )
    alias = {"name": "m", "alias": "champion", "version": "1"}

    refused = assert_error(
        client.post(f"{MODELS}/alias", json=alias), 400, "INVALID_PARAMETER_VALUE"
    )
    assert refused["message"] == (
        "Alias 'champion' of registered model 'm' cannot point at version 1: its "
        "promotion rule does not hold: metrics.val_auc >= 0.9 failed: run "
        f"{run_id} has val_auc = 0.85; tags.validated = 'true' failed: run "
        f"{run_id} has no tag validated."
    )
    assert _aliases(client) == []

    metric = {"run_id": run_id, "key": "val_auc", "value": 0.93, "timestamp": 2}
    _ok(client.post(f"{API}/runs/log-metric", json=metric))
    tag = {"run_id": run_id, "key": "validated", "value": "true"}
    _ok(client.post(f"{API}/runs/set-tag", json=tag))
    _ok(client.post(f"{MODELS}/alias", json=alias))
    assert _aliases(client) == [{"alias": "champion", "version": "1"}]


def test_current_values_and_rollback_over_http(client: ApiClient) -> None:
    _ok(client.post(f"{MODELS}/create", json={"name": "m"}))
    for val_auc in (0.9, 0.95, 0.8):
        _register(client, val_auc)
    rule = {
        "name": "m",
        "alias": "champion",
        "rule": "metrics.val_auc >= current.metrics.val_auc",
    }
    _ok(client.post(f"{KILN}/set", json=rule))
    for version in ("1", "2"):
        _ok(
            client.post(
                f"{MODELS}/alias",
                json={"name": "m", "alias": "champion", "version": version},
            )
        )

    worse = {"name": "m", "alias": "champion", "version": "3"}
    body = assert_error(
        client.post(f"{MODELS}/alias", json=worse), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "the current holder, version 2" in body["message"]
    rollback = client.post(
        "/api/2.0/kiln/registered-models/alias/rollback",
        json={"name": "m", "alias": "champion"},
    )
    body = assert_error(rollback, 400, "INVALID_PARAMETER_VALUE")
    assert "has val_auc = 0.9, and the current holder, version 2" in body["message"]
    assert _aliases(client) == [{"alias": "champion", "version": "2"}]

    # Removing the alias is not guarded.
    _ok(client.delete(f"{MODELS}/alias", json={"name": "m", "alias": "champion"}))
    assert _aliases(client) == []
