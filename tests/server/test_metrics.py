from __future__ import annotations

import pytest

from .conftest import API, ApiClient, assert_error, create_run


def log_points(client: ApiClient, run_id: str, count: int, key: str = "m") -> None:
    metrics = [
        {"key": key, "value": float(step), "timestamp": 1000 + step, "step": step}
        for step in range(count)
    ]
    response = client.post(
        f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
    )
    assert response.status_code == 200, response.text


def test_history_returns_every_point_when_max_results_is_absent(
    client: ApiClient,
) -> None:
    run_id = create_run(client)
    log_points(client, run_id, 5)

    response = client.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}
    )

    metrics = response.json()["metrics"]
    assert [m["step"] for m in metrics] == [0, 1, 2, 3, 4]
    assert metrics[0]["value"] == 0.0 and metrics[0]["timestamp"] == 1000
    assert "next_page_token" not in response.json()


def test_history_pages_advance_to_the_end(client: ApiClient) -> None:
    run_id = create_run(client)
    log_points(client, run_id, 5)
    params: dict[str, str] = {"run_id": run_id, "metric_key": "m", "max_results": "2"}

    steps: list[int] = []
    for _ in range(5):
        body = client.get(f"{API}/metrics/get-history", params=params).json()
        steps += [m["step"] for m in body.get("metrics", [])]
        if "next_page_token" not in body:
            break
        params["page_token"] = body["next_page_token"]

    assert steps == [0, 1, 2, 3, 4]


def test_history_of_unknown_key_is_empty(client: ApiClient) -> None:
    run_id = create_run(client)

    response = client.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "x"}
    )

    assert response.json() == {}


@pytest.mark.parametrize("max_results", ["0", "-1", "many"])
def test_history_refuses_bad_max_results(client: ApiClient, max_results: str) -> None:
    run_id = create_run(client)

    response = client.get(
        f"{API}/metrics/get-history",
        params={"run_id": run_id, "metric_key": "m", "max_results": max_results},
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_bulk_interval_samples_each_run_keeping_ends(client: ApiClient) -> None:
    first, second = create_run(client), create_run(client)
    log_points(client, first, 50)
    log_points(client, second, 3)

    response = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params=[
            ("run_ids", first),
            ("run_ids", second),
            ("metric_key", "m"),
            ("max_results", "10"),
        ],
    )

    metrics = response.json()["metrics"]
    first_steps = [m["step"] for m in metrics if m["run_id"] == first]
    second_steps = [m["step"] for m in metrics if m["run_id"] == second]
    assert len(first_steps) <= 10
    assert first_steps[0] == 0 and first_steps[-1] == 49
    assert second_steps == [0, 1, 2]


def test_bulk_interval_honours_step_range(client: ApiClient) -> None:
    run_id = create_run(client)
    log_points(client, run_id, 20)

    response = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params={
            "run_ids": run_id,
            "metric_key": "m",
            "start_step": "5",
            "end_step": "8",
        },
    )

    assert [m["step"] for m in response.json()["metrics"]] == [5, 6, 7, 8]


def test_bulk_interval_refuses_too_many_runs(client: ApiClient) -> None:
    params = [("run_ids", f"{index:032x}") for index in range(101)]

    response = client.get(
        f"{API}/metrics/get-history-bulk-interval",
        params=[*params, ("metric_key", "m")],
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_history_bulk_gives_full_histories_tagged_by_run(client: ApiClient) -> None:
    first, second = create_run(client), create_run(client)
    log_points(client, first, 2)
    log_points(client, second, 1)

    response = client.get(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
        params=[("run_id", first), ("run_id", second), ("metric_key", "m")],
    )

    pairs = [(m["run_id"], m["step"]) for m in response.json()["metrics"]]
    assert pairs == [(first, 0), (first, 1), (second, 0)]


def _history(client: ApiClient, run_id: str, key: str) -> list[dict[str, object]]:
    params = {"run_id": run_id, "metric_key": key}
    points: list[dict[str, object]] = (
        client.get(f"{API}/metrics/get-history", params=params)
        .json()
        .get("metrics", [])
    )
    return points


def test_history_points_are_in_mlflow_shape_without_the_run_id(
    client: ApiClient,
) -> None:
    run_id = create_run(client)
    batch = [
        {"key": "m", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "m", "value": "Infinity", "timestamp": 2, "step": 1},
        {"key": "m", "value": 0.25, "timestamp": 3, "step": 2, "model_id": "m-1"},
    ]
    body = {"run_id": run_id, "metrics": batch}
    assert client.post(f"{API}/runs/log-batch", json=body).status_code == 200

    assert _history(client, run_id, "m") == [
        {"key": "m", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "m", "value": "Infinity", "timestamp": 2, "step": 1},
        {"key": "m", "value": 0.25, "timestamp": 3, "step": 2, "model_id": "m-1"},
    ]


def test_log_batch_of_plain_points_after_the_first_lands_whole(
    client: ApiClient,
) -> None:
    run_id = create_run(client)
    log_points(client, run_id, 3)
    # Now the key is known: a batch of plain points goes straight from the
    # request's JSON to the database; an identical point is stored once.
    log_points(client, run_id, 5)
    assert [p["step"] for p in _history(client, run_id, "m")] == [0, 1, 2, 3, 4]
    run = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    (latest,) = run["data"]["metrics"]
    assert (latest["value"], latest["timestamp"], latest["step"]) == (4.0, 1004, 4)


def test_log_batch_of_plain_points_to_a_deleted_run_is_refused(
    client: ApiClient,
) -> None:
    run_id = create_run(client)
    log_points(client, run_id, 1)
    client.post(f"{API}/runs/delete", json={"run_id": run_id})
    metrics = [{"key": "m", "value": 1.0, "timestamp": 5, "step": 5}]
    response = client.post(
        f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
    )
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_history_of_numbers_and_infinities_spells_infinities_out(
    client: ApiClient,
) -> None:
    run_id = create_run(client)
    batch = [
        {"key": "m", "value": "-Infinity", "timestamp": 1, "step": 0},
        {"key": "m", "value": 1e308, "timestamp": 2, "step": 1},
        {"key": "m", "value": "Infinity", "timestamp": 3, "step": 2},
    ]
    body = {"run_id": run_id, "metrics": batch}
    assert client.post(f"{API}/runs/log-batch", json=body).status_code == 200

    assert [p["value"] for p in _history(client, run_id, "m")] == [
        "-Infinity",
        1e308,
        "Infinity",
    ]
