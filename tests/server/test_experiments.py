from __future__ import annotations

import pytest

from .conftest import API, ApiClient, assert_error, create_experiment


def test_create_then_get_returns_mlflow_shape(client: ApiClient) -> None:
    experiment_id = create_experiment(
        client, "alpha", tags=[{"key": "team", "value": "ml"}]
    )

    response = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    )

    assert response.status_code == 200
    experiment = response.json()["experiment"]
    assert experiment["experiment_id"] == experiment_id
    assert experiment["name"] == "alpha"
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert experiment["lifecycle_stage"] == "active"
    assert isinstance(experiment["creation_time"], int)
    assert experiment["tags"] == [{"key": "team", "value": "ml"}]


def test_experiment_without_tags_omits_the_field(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "bare")

    body = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    ).json()

    assert "tags" not in body["experiment"]


def test_get_by_name_finds_and_404s(client: ApiClient) -> None:
    create_experiment(client, "by-name")

    found = client.get(
        f"{API}/experiments/get-by-name", params={"experiment_name": "by-name"}
    )
    missing = client.get(
        f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}
    )

    assert found.json()["experiment"]["name"] == "by-name"
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    ("experiment_id", "status", "code"),
    [
        ("12345", 404, "RESOURCE_DOES_NOT_EXIST"),
        ("abc", 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_get_unknown_or_malformed_id(
    client: ApiClient, experiment_id: str, status: int, code: str
) -> None:
    response = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    )

    assert_error(response, status, code)


def test_missing_required_field_is_400(client: ApiClient) -> None:
    response = client.get(f"{API}/experiments/get")

    body = assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert "experiment_id" in body["message"]


def test_duplicate_name_is_resource_already_exists_400(client: ApiClient) -> None:
    create_experiment(client, "twice")

    response = client.post(f"{API}/experiments/create", json={"name": "twice"})

    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS")


def test_camel_case_fields_are_read(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "camel")

    response = client.get(
        f"{API}/experiments/get", params={"experimentId": experiment_id}
    )

    assert response.json()["experiment"]["name"] == "camel"


def test_both_spellings_of_one_field_are_refused(client: ApiClient) -> None:
    response = client.post(
        f"{API}/experiments/update",
        json={"experiment_id": "0", "experimentId": "0", "new_name": "x"},
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_by_get_and_post(client: ApiClient, method: str) -> None:
    for name in ("s1", "s2", "s3"):
        create_experiment(client, name)
    fields = {"max_results": 2, "filter": "name LIKE 's%'", "order_by": ["name ASC"]}

    if method == "GET":
        first = client.get(f"{API}/experiments/search", params=fields)
    else:
        first = client.post(f"{API}/experiments/search", json=fields)

    body = first.json()
    assert [e["name"] for e in body["experiments"]] == ["s1", "s2"]
    token = body["next_page_token"]
    second = client.post(
        f"{API}/experiments/search", json={**fields, "page_token": token}
    ).json()
    assert [e["name"] for e in second["experiments"]] == ["s3"]
    assert "next_page_token" not in second


def test_empty_search_answers_empty_object(client: ApiClient) -> None:
    response = client.post(
        f"{API}/experiments/search", json={"max_results": 10, "filter": "name = 'x'"}
    )

    assert response.status_code == 200
    assert response.json() == {}


def test_search_view_type_by_name(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "gone")
    client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})

    deleted = client.get(
        f"{API}/experiments/search",
        params={"max_results": "10", "view_type": "DELETED_ONLY"},
    ).json()

    assert [e["name"] for e in deleted["experiments"]] == ["gone"]


def test_search_refuses_bad_max_results(client: ApiClient) -> None:
    response = client.post(f"{API}/experiments/search", json={"max_results": 0})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_rename_delete_restore_cycle(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "old")
    ident = {"experiment_id": experiment_id}

    renamed = client.post(
        f"{API}/experiments/update", json={**ident, "new_name": "new"}
    )
    deleted = client.post(f"{API}/experiments/delete", json=ident)
    after_delete = client.get(f"{API}/experiments/get", params=ident).json()
    restored = client.post(f"{API}/experiments/restore", json=ident)
    after_restore = client.get(f"{API}/experiments/get", params=ident).json()

    assert [r.json() for r in (renamed, deleted, restored)] == [{}, {}, {}]
    assert after_delete["experiment"]["lifecycle_stage"] == "deleted"
    assert after_restore["experiment"]["name"] == "new"
    assert after_restore["experiment"]["lifecycle_stage"] == "active"


def test_rename_deleted_experiment_is_invalid_state_500(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "tomb")
    client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})

    response = client.post(
        f"{API}/experiments/update",
        json={"experiment_id": experiment_id, "new_name": "other"},
    )

    assert_error(response, 500, "INVALID_STATE")


def test_delete_unknown_experiment_is_404(client: ApiClient) -> None:
    response = client.post(f"{API}/experiments/delete", json={"experiment_id": "999"})

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_set_and_delete_experiment_tag(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "tagged")
    ident = {"experiment_id": experiment_id}

    client.post(
        f"{API}/experiments/set-experiment-tag",
        json={**ident, "key": "k", "value": "v"},
    )
    tagged = client.get(f"{API}/experiments/get", params=ident).json()
    client.post(f"{API}/experiments/delete-experiment-tag", json={**ident, "key": "k"})
    untagged = client.get(f"{API}/experiments/get", params=ident).json()

    assert tagged["experiment"]["tags"] == [{"key": "k", "value": "v"}]
    assert "tags" not in untagged["experiment"]


def test_ajax_api_mirrors_api(client: ApiClient) -> None:
    created = client.post(
        "/ajax-api/2.0/mlflow/experiments/create", json={"name": "mirror"}
    )
    experiment_id = created.json()["experiment_id"]

    via_api = client.get(
        f"{API}/experiments/get", params={"experiment_id": experiment_id}
    )

    assert via_api.json()["experiment"]["name"] == "mirror"


def test_search_datasets_with_no_inputs_is_empty(client: ApiClient) -> None:
    response = client.post(
        "/ajax-api/2.0/mlflow/experiments/search-datasets",
        json={"experiment_ids": ["0"]},
    )

    assert response.status_code == 200
    assert response.json() == {}
