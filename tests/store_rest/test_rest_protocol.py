from __future__ import annotations

import base64
import math

import httpx
import pytest
from rest_fakes import FakeServer, error_reply, json_reply

from kiln.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    Unauthenticated,
)
from kiln.store.base import TrackingStore
from kiln.store.rest import METRIC_HISTORY_PAGE_SIZE, RestConfig, RestStore

RUN_ID = "b" * 32


def test_rest_store_offers_every_tracking_store_method() -> None:
    assert isinstance(RestStore("http://localhost:5000"), TrackingStore)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            RestConfig(username="ada", password="s3cret"),
            "Basic " + base64.b64encode(b"ada:s3cret").decode(),
        ),
        (RestConfig(token="tok"), "Bearer tok"),
        (
            RestConfig(username="ada", password="pw", token="tok"),
            "Basic " + base64.b64encode(b"ada:pw").decode(),
        ),
        (RestConfig(username="ada", token="tok"), "Bearer tok"),
        (RestConfig(), None),
    ],
)
def test_authorization_header_is_sent_as_mlflow_sends_it(
    config: RestConfig, expected: str | None
) -> None:
    server = FakeServer()
    server.on("POST", "/runs/set-tag", json_reply(200, {}))

    server.store(config).set_tag(RUN_ID, RunTag("k", "v"))

    assert server.requests[0].headers.get("Authorization") == expected


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("RESOURCE_DOES_NOT_EXIST", ResourceDoesNotExist),
        ("RESOURCE_ALREADY_EXISTS", ResourceAlreadyExists),
        ("INVALID_PARAMETER_VALUE", InvalidParameterValue),
        ("PERMISSION_DENIED", PermissionDenied),
        ("UNAUTHENTICATED", Unauthenticated),
    ],
)
def test_error_codes_become_kiln_errors_with_the_server_message(
    code: str, error: type[KilnError]
) -> None:
    server = FakeServer()
    server.on("POST", "/experiments/create", error_reply(400, code, "Name taken."))

    with pytest.raises(error, match=r"Name taken\."):
        server.store().create_experiment("e")


def test_unknown_error_codes_are_kept() -> None:
    server = FakeServer()
    server.on("POST", "/experiments/create", error_reply(409, "ABORTED", "Busy."))

    with pytest.raises(KilnError) as caught:
        server.store().create_experiment("e")

    assert caught.value.error_code == "ABORTED"
    assert caught.value.http_status == 409


def test_html_404_means_the_endpoint_is_missing() -> None:
    server = FakeServer()

    with pytest.raises(KilnError) as caught:
        server.store().delete_experiment_tag("1", "k")

    assert caught.value.error_code == "ENDPOINT_NOT_FOUND"
    assert "/api/2.0/mlflow/experiments/delete-experiment-tag" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"), [(401, Unauthenticated), (403, PermissionDenied)]
)
def test_plain_auth_failures_map_by_status(status: int, error: type[KilnError]) -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", httpx.Response(status, text="Unauthorized"))

    with pytest.raises(error, match="HTTP"):
        server.store().get_run(RUN_ID)


def test_a_success_that_is_not_json_is_an_error() -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", httpx.Response(200, text="<html>login</html>"))

    with pytest.raises(KilnError, match="not a JSON object"):
        server.store().get_run(RUN_ID)


def test_an_empty_success_reads_as_an_empty_answer() -> None:
    server = FakeServer()
    server.on("POST", "/runs/log-parameter", httpx.Response(200))

    server.store().log_param(RUN_ID, Param("p", "1"))

    assert server.body() == {
        "run_id": RUN_ID,
        "run_uuid": RUN_ID,
        "key": "p",
        "value": "1",
    }


def test_posts_send_json_and_name_the_run_both_ways() -> None:
    server = FakeServer()
    server.on("POST", "/runs/log-metric", json_reply(200, {}))

    server.store().log_metric(RUN_ID, Metric("loss", math.nan, 17, 3))

    request = server.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert server.body() == {
        "run_id": RUN_ID,
        "run_uuid": RUN_ID,
        "key": "loss",
        "value": "NaN",
        "timestamp": 17,
        "step": 3,
    }


def test_gets_send_repeated_query_keys() -> None:
    server = FakeServer()
    point = {"key": "m", "value": 1, "timestamp": 2, "step": 0, "run_id": "r1"}
    server.on(
        "GET",
        "/metrics/get-history-bulk-interval",
        json_reply(200, {"metrics": [point]}),
    )

    metrics = server.store().get_metric_history_bulk_interval(
        ["r1", "r2"], "m", max_results=10, start_step=0, end_step=5
    )

    params = server.requests[0].url.params
    assert params.get_list("run_ids") == ["r1", "r2"]
    assert params["start_step"] == "0" and params["max_results"] == "10"
    assert metrics == [Metric("m", 1.0, 2, 0, run_id="r1")]


def test_whole_metric_history_is_fetched_page_by_page() -> None:
    server = FakeServer()
    page = [{"key": "m", "value": i, "timestamp": i, "step": i} for i in range(3)]
    server.on(
        "GET",
        "/metrics/get-history",
        json_reply(200, {"metrics": page[:2], "next_page_token": "t1"}),
        json_reply(200, {"metrics": page[2:]}),
    )

    history = server.store().get_metric_history(RUN_ID, "m")

    assert [m.step for m in history] == [0, 1, 2]
    assert history.token is None
    first, second = (r.url.params for r in server.requests)
    assert first["max_results"] == str(METRIC_HISTORY_PAGE_SIZE)
    assert "page_token" not in first and second["page_token"] == "t1"


def test_a_metric_history_page_returns_its_token() -> None:
    server = FakeServer()
    point = {"key": "m", "value": "Infinity", "timestamp": 1}
    server.on(
        "GET",
        "/metrics/get-history",
        json_reply(200, {"metrics": [point], "next_page_token": "t2"}),
    )

    page = server.store().get_metric_history(RUN_ID, "m", max_results=1)

    # The server leaves the run id out of each point; the store fills it in.
    assert page == [Metric("m", math.inf, 1, 0, RUN_ID)] and page.token == "t2"
    assert len(server.requests) == 1


def test_a_token_that_does_not_advance_ends_the_history() -> None:
    server = FakeServer()
    point = {"key": "m", "value": 1, "timestamp": 1}
    server.on(
        "GET",
        "/metrics/get-history",
        json_reply(200, {"metrics": [point], "next_page_token": "same"}),
    )

    history = server.store().get_metric_history(RUN_ID, "m", page_token="same")

    assert len(history) == 1 and len(server.requests) == 1


def test_missing_experiment_by_name_is_none() -> None:
    server = FakeServer()
    server.on(
        "GET", "/experiments/get-by-name", error_reply(404, "RESOURCE_DOES_NOT_EXIST")
    )

    assert server.store().get_experiment_by_name("nope") is None
    assert server.requests[0].url.params["experiment_name"] == "nope"


def test_search_sends_mlflow_fields_and_returns_the_next_token() -> None:
    server = FakeServer()
    experiments = [{"experiment_id": "1", "name": "a"}]
    server.on(
        "POST",
        "/experiments/search",
        json_reply(200, {"experiments": experiments, "next_page_token": "n"}),
    )

    page = server.store().search_experiments(
        ViewType.ALL, 5, "name LIKE 'a%'", ["name"], "p"
    )

    assert [e.name for e in page] == ["a"] and page.token == "n"
    assert server.body() == {
        "view_type": "ALL",
        "max_results": 5,
        "filter": "name LIKE 'a%'",
        "order_by": ["name"],
        "page_token": "p",
    }


def test_an_empty_search_answer_is_an_empty_last_page() -> None:
    server = FakeServer()
    server.on("POST", "/runs/search", json_reply(200, {}))

    page = server.store().search_runs(["1"])

    assert page == [] and page.token is None
    assert server.body() == {
        "experiment_ids": ["1"],
        "run_view_type": "ACTIVE_ONLY",
        "max_results": 1000,
    }


def test_log_inputs_sends_datasets_and_models() -> None:
    server = FakeServer()
    server.on("POST", "/runs/log-inputs", json_reply(200, {}))
    dataset = Dataset("d", "abc", "local", "/d.csv")
    tags = (InputTag("mlflow.data.context", "train"),)

    server.store().log_inputs(
        RUN_ID, [DatasetInput(dataset, tags)], [LoggedModelInput("m-1")]
    )

    assert server.body() == {
        "run_id": RUN_ID,
        "datasets": [
            {
                "tags": [{"key": "mlflow.data.context", "value": "train"}],
                "dataset": {
                    "name": "d",
                    "digest": "abc",
                    "source_type": "local",
                    "source": "/d.csv",
                },
            }
        ],
        "models": [{"model_id": "m-1"}],
    }


def test_record_logged_model_posts_the_model_json_once() -> None:
    server = FakeServer()
    server.on("POST", "/runs/log-model", json_reply(200, {}))

    server.store().record_logged_model(RUN_ID, '{"artifact_path": "m"}')

    assert server.body() == {"run_id": RUN_ID, "model_json": '{"artifact_path": "m"}'}
    assert len(server.requests) == 1


def test_search_datasets_uses_the_ui_route() -> None:
    server = FakeServer()
    summaries = [{"experiment_id": "1", "name": "d", "digest": "x", "context": "train"}]
    server.on_url_path(
        "POST",
        "/ajax-api/2.0/mlflow/experiments/search-datasets",
        json_reply(200, {"dataset_summaries": summaries}),
    )

    found = server.store().search_datasets(["1"])

    assert [(s.name, s.context) for s in found] == [("d", "train")]


def test_a_path_prefix_in_the_tracking_uri_is_kept() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"experiment_id": "3"})

    store = RestStore("https://host/team/kiln/", transport=httpx.MockTransport(handle))

    assert store.create_experiment("e") == "3"
    assert seen == ["/team/kiln/api/2.0/mlflow/experiments/create"]
    assert store.base_url == "https://host/team/kiln"
    assert isinstance(store.http_client, httpx.Client)
    store.close()


@pytest.mark.parametrize(
    "uri", ["localhost:5000", "ftp://host", "http://", "sqlite:///kiln.db"]
)
def test_a_tracking_uri_that_is_not_http_is_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="tracking server URL"):
        RestStore(uri)
