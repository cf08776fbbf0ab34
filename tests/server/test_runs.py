from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import API, ApiClient, assert_error, create_experiment, create_run


def get_run(client: ApiClient, run_id: str) -> dict[str, object]:
    response = client.get(f"{API}/runs/get", params={"run_id": run_id})
    assert response.status_code == 200, response.text
    run: dict[str, object] = response.json()["run"]
    return run


def _point(metric: dict[str, object]) -> dict[str, object]:
    return {k: metric[k] for k in ("key", "value", "timestamp", "step")}


def test_create_run_returns_info_and_proxy_artifact_uri(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "runs")

    response = client.post(
        f"{API}/runs/create",
        json={
            "experiment_id": experiment_id,
            "user_id": "ada",
            "run_name": "first",
            "start_time": 1700000000000,
            "tags": [{"key": "mlflow.source.type", "value": "LOCAL"}],
        },
    )

    assert response.status_code == 200
    run = response.json()["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info["experiment_id"] == experiment_id
    assert info["run_name"] == "first"
    assert info["user_id"] == "ada"
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 1700000000000
    assert "end_time" not in info
    assert info["lifecycle_stage"] == "active"
    expected_uri = f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    assert info["artifact_uri"] == expected_uri
    assert {"key": "mlflow.source.type", "value": "LOCAL"} in run["data"]["tags"]
    assert run["inputs"] == {}
    assert run["outputs"] == {}


def test_get_unknown_run_is_404(client: ApiClient) -> None:
    response = client.get(f"{API}/runs/get", params={"run_id": "0" * 32})

    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_run_uuid_is_read_as_run_id(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.get(f"{API}/runs/get", params={"run_uuid": run_id})

    assert response.json()["run"]["info"]["run_id"] == run_id


def test_create_run_in_deleted_experiment_is_refused(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "deleted")
    client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})

    response = client.post(f"{API}/runs/create", json={"experiment_id": experiment_id})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_update_run_finishes_it(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.post(
        f"{API}/runs/update",
        json={"run_id": run_id, "status": "FINISHED", "end_time": 1700000001000},
    )

    info = response.json()["run_info"]
    assert info["status"] == "FINISHED"
    assert info["end_time"] == 1700000001000


def test_update_run_with_unknown_status_is_400(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.post(f"{API}/runs/update", json={"run_id": run_id, "status": "X"})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_delete_and_restore_run(client: ApiClient) -> None:
    run_id = create_run(client)

    client.post(f"{API}/runs/delete", json={"run_id": run_id})
    deleted = get_run(client, run_id)
    client.post(f"{API}/runs/restore", json={"run_id": run_id})
    restored = get_run(client, run_id)

    assert deleted["info"]["lifecycle_stage"] == "deleted"  # type: ignore[index]
    assert restored["info"]["lifecycle_stage"] == "active"  # type: ignore[index]


def test_log_metric_param_and_tag_show_in_run_data(client: ApiClient) -> None:
    run_id = create_run(client)

    for path, body in [
        ("log-metric", {"key": "loss", "value": 0.5, "timestamp": 10, "step": 1}),
        ("log-metric", {"key": "loss", "value": 0.25, "timestamp": 20, "step": 2}),
        ("log-parameter", {"key": "lr", "value": "0.01"}),
        ("set-tag", {"key": "note", "value": "hi"}),
    ]:
        response = client.post(f"{API}/runs/{path}", json={"run_id": run_id, **body})
        assert response.status_code == 200, response.text
        assert response.json() == {}

    data = get_run(client, run_id)["data"]
    [latest] = data["metrics"]  # type: ignore[index]
    assert _point(latest) == {"key": "loss", "value": 0.25, "timestamp": 20, "step": 2}
    assert data["params"] == [{"key": "lr", "value": "0.01"}]  # type: ignore[index]
    assert {"key": "note", "value": "hi"} in data["tags"]  # type: ignore[index]


def test_run_without_logged_data_omits_empty_lists(client: ApiClient) -> None:
    run_id = create_run(client, run_name="named")

    data = get_run(client, run_id)["data"]

    assert set(data) == {"tags"}  # type: ignore[arg-type]


def test_metric_values_as_strings_and_nan(client: ApiClient) -> None:
    run_id = create_run(client)

    client.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "m", "value": "NaN", "timestamp": "5"},
    )

    metric = get_run(client, run_id)["data"]["metrics"][0]  # type: ignore[index]
    assert _point(metric) == {"key": "m", "value": "NaN", "timestamp": 5, "step": 0}


def test_log_metric_without_timestamp_is_400(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.post(
        f"{API}/runs/log-metric", json={"run_id": run_id, "key": "m", "value": 1}
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_changing_a_param_is_400_naming_both_values(client: ApiClient) -> None:
    run_id = create_run(client)
    first = {"run_id": run_id, "key": "lr", "value": "0.1"}
    client.post(f"{API}/runs/log-parameter", json=first)

    same = client.post(f"{API}/runs/log-parameter", json=first)
    changed = client.post(f"{API}/runs/log-parameter", json={**first, "value": "0.2"})

    assert same.status_code == 200
    body = assert_error(changed, 400, "INVALID_PARAMETER_VALUE")
    assert "0.1" in body["message"] and "0.2" in body["message"]


def test_delete_tag_and_missing_tag_404(client: ApiClient) -> None:
    run_id = create_run(client)
    client.post(
        f"{API}/runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v"}
    )

    deleted = client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "t"})
    again = client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "t"})

    assert deleted.status_code == 200
    assert_error(again, 404, "RESOURCE_DOES_NOT_EXIST")


def test_log_batch_stores_everything(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [{"key": "acc", "value": 0.9, "timestamp": 1, "step": 0}],
            "params": [{"key": "depth", "value": "3"}],
            "tags": [{"key": "stage", "value": "dev"}],
        },
    )

    assert response.json() == {}
    data = get_run(client, run_id)["data"]
    assert data["metrics"][0]["key"] == "acc"  # type: ignore[index]
    assert data["params"] == [{"key": "depth", "value": "3"}]  # type: ignore[index]


def test_log_batch_with_conflicting_params_is_400(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}],
        },
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_log_inputs_and_outputs_show_in_run(client: ApiClient) -> None:
    run_id = create_run(client)
    dataset = {
        "name": "iris",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "iris.csv"}',
    }

    inputs = client.post(
        f"{API}/runs/log-inputs",
        json={
            "run_id": run_id,
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                    "dataset": dataset,
                }
            ],
        },
    )
    outputs = client.post(
        f"{API}/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": "m-" + "a" * 32, "step": 3}]},
    )

    assert inputs.json() == {} and outputs.json() == {}
    run = get_run(client, run_id)
    dataset_input = run["inputs"]["dataset_inputs"][0]  # type: ignore[index]
    assert dataset_input["dataset"] == dataset
    assert dataset_input["tags"] == [{"key": "mlflow.data.context", "value": "train"}]
    assert run["outputs"] == {  # type: ignore[comparison-overlap]
        "model_outputs": [{"model_id": "m-" + "a" * 32, "step": 3}]
    }


def test_search_runs_pages_and_filters(client: ApiClient) -> None:
    experiment_id = create_experiment(client, "search")
    for index in range(3):
        run_id = create_run(client, experiment_id, start_time=1000 + index)
        client.post(
            f"{API}/runs/log-metric",
            json={"run_id": run_id, "key": "m", "value": index, "timestamp": 1},
        )
    fields = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.m >= 1",
        "max_results": 1,
        "order_by": ["metrics.m DESC"],
    }

    first = client.post(f"{API}/runs/search", json=fields).json()
    second = client.post(
        f"{API}/runs/search", json={**fields, "page_token": first["next_page_token"]}
    ).json()

    values = [r["data"]["metrics"][0]["value"] for r in first["runs"] + second["runs"]]
    assert values == [2.0, 1.0]
    assert "next_page_token" not in second


@pytest.mark.parametrize(
    "fields", [{"max_results": 50001}, {"filter": "metrics.m >> 1"}]
)
def test_search_runs_refuses_bad_input(
    client: ApiClient, fields: dict[str, object]
) -> None:
    response = client.post(
        f"{API}/runs/search", json={"experiment_ids": ["0"], **fields}
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_search_runs_with_no_match_is_empty_object(client: ApiClient) -> None:
    response = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"]})

    assert response.json() == {}


def _model_json(run_id: str, path: str) -> str:
    return json.dumps(
        {
            "artifact_path": path,
            "flavors": {"python_function": {"loader_module": "x"}},
            "run_id": run_id,
            "utc_time_created": "2026-01-01 00:00:00.000000",
        }
    )


def test_log_model_appends_to_the_history_tag(client: ApiClient) -> None:
    run_id = create_run(client)

    for path in ("model", "other"):
        response = client.post(
            f"{API}/runs/log-model",
            json={"run_id": run_id, "model_json": _model_json(run_id, path)},
        )
        assert response.json() == {}

    tags = {t["key"]: t["value"] for t in get_run(client, run_id)["data"]["tags"]}  # type: ignore[index]
    history = json.loads(tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model", "other"]


@pytest.mark.parametrize("model_json", ['{"artifact_path": "m"}', "[1, 2]", "not json"])
def test_log_model_refuses_incomplete_model_json(
    client: ApiClient, model_json: str
) -> None:
    run_id = create_run(client)

    response = client.post(
        f"{API}/runs/log-model", json={"run_id": run_id, "model_json": model_json}
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


class _EntitiesOnly:
    """The SQL store without its JSON run search, as another store would be."""

    def __init__(self, store: object) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        if name == "search_runs_json":
            raise AttributeError(name)
        return getattr(self._store, name)


def test_search_runs_answers_alike_with_or_without_the_json_search(
    client: ApiClient, make_client: Any, sql_store: Any
) -> None:
    experiment_id = create_experiment(client, "both")
    for index in range(3):
        run_id = create_run(client, experiment_id, start_time=1000 + index)
        client.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [{"key": "m", "value": "NaN", "timestamp": 1}],
                "params": [{"key": "p", "value": str(index)}],
                "tags": [{"key": "t", "value": "x"}],
            },
        )
    plain = make_client(store=_EntitiesOnly(sql_store))
    fields = {"experiment_ids": [experiment_id], "max_results": 2}

    fast = client.post(f"{API}/runs/search", json=fields)
    slow = plain.post(f"{API}/runs/search", json=fields)

    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert len(fast.json()["runs"]) == 2 and "next_page_token" in fast.json()
