from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from rest_fakes import FakeServer, error_reply, json_reply

from kiln.entities import Metric, Param, RunTag
from kiln.errors import KilnError, ResourceDoesNotExist, StorageUnavailable
from kiln.store.rest import RETRY_STATUSES, RestConfig

EXPERIMENT = {"experiment": {"experiment_id": "1", "name": "e"}}
RUN_ID = "a" * 32


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_reads_are_retried_on_passing_failures(status: int) -> None:
    server = FakeServer()
    server.on(
        "GET", "/experiments/get", httpx.Response(status), json_reply(200, EXPERIMENT)
    )

    experiment = server.store().get_experiment("1")

    assert experiment.name == "e"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_other_failures_are_not_retried(status: int) -> None:
    server = FakeServer()
    server.on("GET", "/experiments/get", error_reply(status, "BAD_REQUEST"))

    with pytest.raises(KilnError):
        server.store().get_experiment("1")

    assert len(server.requests) == 1


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    server = FakeServer()
    server.on("GET", "/experiments/get", httpx.Response(503))
    config = RestConfig(
        max_retries=5, backoff_factor=2, backoff_jitter=1, max_backoff=20
    )

    with pytest.raises(StorageUnavailable):
        server.store(config).get_experiment("1")

    # The fake jitter is a quarter of the jitter range.
    assert server.sleeps == [2.25, 4.25, 8.25, 16.25, 20]
    assert len(server.requests) == 6


def test_zero_retries_sends_once() -> None:
    server = FakeServer()
    server.on("GET", "/experiments/get", httpx.Response(500))

    with pytest.raises(KilnError):
        server.store(RestConfig(max_retries=0)).get_experiment("1")

    assert len(server.requests) == 1 and server.sleeps == []


def test_retry_after_seconds_replace_the_backoff() -> None:
    server = FakeServer()
    limited = httpx.Response(429, headers={"Retry-After": "3"})
    server.on("GET", "/experiments/get", limited, json_reply(200, EXPERIMENT))

    server.store().get_experiment("1")

    assert server.sleeps == [3.0]


def test_retry_after_http_date_is_honoured() -> None:
    server = FakeServer()
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    limited = httpx.Response(503, headers={"Retry-After": when})
    server.on("GET", "/experiments/get", limited, json_reply(200, EXPERIMENT))

    server.store().get_experiment("1")

    assert 25 <= server.sleeps[0] <= 31


def test_retry_after_is_capped_and_can_be_ignored() -> None:
    server = FakeServer()
    limited = httpx.Response(429, headers={"Retry-After": "86400"})
    server.on("GET", "/experiments/get", limited, limited, json_reply(200, EXPERIMENT))

    server.store(RestConfig(max_backoff=60)).get_experiment("1")
    assert server.sleeps == [60, 60]

    server.sleeps.clear()
    server.on("GET", "/experiments/get", limited, json_reply(200, EXPERIMENT))
    server.store(RestConfig(respect_retry_after=False)).get_experiment("1")
    assert server.sleeps == [2.25]


def test_the_last_error_is_raised_when_retries_run_out() -> None:
    server = FakeServer()
    server.on(
        "GET", "/runs/get", error_reply(503, "TEMPORARILY_UNAVAILABLE", "db down")
    )

    with pytest.raises(StorageUnavailable, match="db down"):
        server.store(RestConfig(max_retries=2)).get_run(RUN_ID)

    assert len(server.requests) == 3


def _run_reply() -> httpx.Response:
    info = {"run_id": RUN_ID, "experiment_id": "1", "status": "RUNNING"}
    return json_reply(200, {"run": {"info": info}})


@pytest.mark.parametrize("status", [500, 502, 504, 408])
def test_creates_are_not_repeated_when_the_server_may_have_acted(status: int) -> None:
    server = FakeServer()
    server.on("POST", "/runs/create", httpx.Response(status), _run_reply())

    with pytest.raises(KilnError):
        server.store().create_run("1", "ada", 1, [], "r")

    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_creates_are_repeated_when_the_server_did_not_act(status: int) -> None:
    server = FakeServer()
    server.on(
        "POST",
        "/experiments/create",
        httpx.Response(status),
        json_reply(200, {"experiment_id": "7"}),
    )

    assert server.store().create_experiment("e") == "7"
    assert len(server.requests) == 2


def test_creates_are_repeated_when_the_connection_was_never_made() -> None:
    server = FakeServer()
    refused = httpx.ConnectError("connection refused")
    server.on("POST", "/runs/create", refused, _run_reply())

    run = server.store().create_run("1", "ada", 1, [], None)

    assert run.info.run_id == RUN_ID
    assert len(server.requests) == 2


def test_creates_are_not_repeated_after_a_read_timeout() -> None:
    server = FakeServer()
    server.on("POST", "/runs/create", httpx.ReadTimeout("slow"), _run_reply())

    with pytest.raises(StorageUnavailable, match=r"tracking\.test"):
        server.store().create_run("1", "ada", 1, [], None)

    assert len(server.requests) == 1


def test_reads_are_repeated_after_a_read_timeout() -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", httpx.ReadTimeout("slow"), _run_reply())

    assert server.store().get_run(RUN_ID).info.run_id == RUN_ID


def test_unreachable_server_raises_storage_unavailable_after_retries() -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", httpx.ConnectError("refused"))

    with pytest.raises(StorageUnavailable, match="after 4 attempt"):
        server.store(RestConfig(max_retries=3)).get_run(RUN_ID)


REPEATABLE_WRITES = [
    ("/runs/log-metric", lambda s: s.log_metric(RUN_ID, Metric("m", 1.0, 5))),
    ("/runs/log-parameter", lambda s: s.log_param(RUN_ID, Param("p", "1"))),
    ("/runs/set-tag", lambda s: s.set_tag(RUN_ID, RunTag("t", "v"))),
    ("/runs/log-batch", lambda s: s.log_batch(RUN_ID, [Metric("m", 1.0, 5)])),
    ("/runs/log-inputs", lambda s: s.log_inputs(RUN_ID)),
    (
        "/experiments/set-experiment-tag",
        lambda s: s.set_experiment_tag("1", RunTag("t", "v")),
    ),
    ("/experiments/search", lambda s: s.search_experiments()),
    ("/runs/search", lambda s: s.search_runs(["1"])),
]

ONCE_ONLY_WRITES = [
    ("/experiments/delete", lambda s: s.delete_experiment("1")),
    ("/experiments/restore", lambda s: s.restore_experiment("1")),
    ("/experiments/update", lambda s: s.rename_experiment("1", "n")),
    ("/experiments/delete-experiment-tag", lambda s: s.delete_experiment_tag("1", "t")),
    ("/runs/delete", lambda s: s.delete_run(RUN_ID)),
    ("/runs/restore", lambda s: s.restore_run(RUN_ID)),
    ("/runs/delete-tag", lambda s: s.delete_tag(RUN_ID, "t")),
    ("/runs/outputs", lambda s: s.log_outputs(RUN_ID, [])),
]


@pytest.mark.parametrize(("path", "call"), REPEATABLE_WRITES)
def test_repeatable_writes_are_retried_on_500(path: str, call: object) -> None:
    server = FakeServer()
    server.on("POST", path, httpx.Response(500), json_reply(200, {}))

    call(server.store())  # type: ignore[operator]

    assert len(server.requests) == 2


@pytest.mark.parametrize(("path", "call"), ONCE_ONLY_WRITES)
def test_other_writes_are_not_retried_on_500(path: str, call: object) -> None:
    server = FakeServer()
    server.on("POST", path, httpx.Response(500), json_reply(200, {}))

    with pytest.raises(KilnError):
        call(server.store())  # type: ignore[operator]

    assert len(server.requests) == 1


def test_a_missing_resource_is_not_retried() -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", error_reply(404, "RESOURCE_DOES_NOT_EXIST"))

    with pytest.raises(ResourceDoesNotExist):
        server.store().get_run(RUN_ID)

    assert server.sleeps == []


def test_errors_that_will_not_pass_are_not_retried() -> None:
    server = FakeServer()
    server.on("GET", "/runs/get", httpx.UnsupportedProtocol("no such scheme"))

    with pytest.raises(StorageUnavailable, match="after 1 attempt"):
        server.store().get_run(RUN_ID)

    assert server.sleeps == []


def test_a_dropped_connection_is_retried_for_reads() -> None:
    server = FakeServer()
    dropped = httpx.RemoteProtocolError("server disconnected")
    server.on("GET", "/runs/get", dropped, _run_reply())

    assert server.store().get_run(RUN_ID).info.run_id == RUN_ID
    assert len(server.sleeps) == 1


def test_streamed_requests_are_retried_and_errors_raised_on_demand() -> None:
    server = FakeServer()
    path = "/api/2.0/mlflow-artifacts/artifacts/1/a.txt"
    server.on_url_path(
        "GET", path, httpx.Response(503), httpx.Response(404, text="gone")
    )
    http = server.store().http

    def build() -> httpx.Request:
        return http.client.build_request("GET", http.base_url + path)

    response = http.send(build, idempotent=True, stream=True)
    with pytest.raises(KilnError) as caught:
        http.raise_for_error(response)

    assert caught.value.error_code == "ENDPOINT_NOT_FOUND"
    assert len(server.requests) == 2 and len(server.sleeps) == 1
    http.raise_for_error(httpx.Response(200, request=build()))
