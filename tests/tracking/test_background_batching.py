"""Logging to a tracking server goes out in the background, in log-batch
requests, and what the server refuses is raised at the next flush point.

Most tests run a real Kiln server (uvicorn in a thread, on a loopback port)
behind a small ASGI wrapper that counts requests and can hold log-batch
requests back, so the test decides when the sender gets through.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import uvicorn

import kiln
from kiln.entities import Metric, Param, RunStatus, RunTag
from kiln.errors import InvalidParameterValue, StorageUnavailable
from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore
from kiln.tracking import active, batching, config
from kiln.tracking.client import KilnClient
from kiln.validation import MAX_BATCH_ENTITIES, MAX_BATCH_PARAMS, MAX_BATCH_TAGS

_LOG_PATHS = ("log-metric", "log-parameter", "set-tag", "log-batch")


class Counting:
    """ASGI middleware: records request paths; ``gate`` holds log-batch
    requests until it is set."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
            if scope["path"].endswith("/log-batch"):
                await anyio.to_thread.run_sync(self.gate.wait)
        await self.app(scope, receive, send)

    def logging_requests(self) -> list[str]:
        return [p.rsplit("/", 1)[1] for p in self.paths if p.endswith(_LOG_PATHS)]


class Server:
    def __init__(self, tmp_path: Path) -> None:
        self.store = SqlStore(f"sqlite:///{tmp_path / 's.db'}", "mlflow-artifacts:/")
        app = create_app(self.store, artifacts_destination=str(tmp_path / "a"))
        self.counting = Counting(app)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.counting, host="127.0.0.1", port=port, log_level="error"
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                pytest.fail("The Kiln server did not start.")
            time.sleep(0.01)

    def stop(self) -> None:
        self.counting.gate.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A live server, made the current tracking URI; no retries, so a
    stopped server fails at once."""
    monkeypatch.setenv("KILN_HTTP_REQUEST_MAX_RETRIES", "0")
    running = Server(tmp_path)
    monkeypatch.setattr(config, "_explicit_tracking_uri", running.url)
    try:
        yield running
    finally:
        # Nothing queued may leak into the next test.
        batching._sender.drain()
        batching._sender.take_failures(None)
        running.stop()
        running.store.close()


def test_many_metrics_travel_in_a_few_log_batch_requests(server: Server) -> None:
    server.counting.gate.clear()
    with kiln.start_run() as run:
        for step in range(3000):
            kiln.log_metric("loss", 1 / (step + 1), step=step)
        server.counting.gate.set()

    requests = server.counting.logging_requests()
    assert set(requests) == {"log-batch"}
    # The first request left while the loop ran; the rest were merged
    # 1000 points at a time.
    assert 3 <= len(requests) <= 4
    history = KilnClient().get_metric_history(run.run_id, "loss")
    assert [point.step for point in history] == list(range(3000))


def test_logging_returns_before_the_server_has_it_and_flush_waits(
    server: Server,
) -> None:
    client = KilnClient()
    run_id = client.create_run("0").info.run_id
    server.counting.gate.clear()

    client.log_param(run_id, "lr", 0.1)
    client.set_tag(run_id, "team", "vision")
    stored_meanwhile = server.store.get_run(run_id).data.params
    server.counting.gate.set()
    kiln.flush()

    assert stored_meanwhile == {}
    run = server.store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["team"] == "vision"


def test_items_keep_their_order_per_run(server: Server) -> None:
    client = KilnClient()
    run_id = client.create_run("0").info.run_id

    client.set_tag(run_id, "stage", "one")
    client.set_tag(run_id, "stage", "two")
    client.set_tag(run_id, "scratch", "x")
    client.delete_tag(run_id, "scratch")
    client.log_param(run_id, "seed", 7)
    client.log_param(run_id, "seed", 7)
    for value in (3.0, 2.0, 1.0):
        client.log_metric(run_id, "loss", value, timestamp=1000, step=5)
    run = client.get_run(run_id)

    assert run.data.tags["stage"] == "two"
    assert "scratch" not in run.data.tags
    assert run.data.params == {"seed": "7"}
    history = client.get_metric_history(run_id, "loss")
    assert sorted(point.value for point in history) == [1.0, 2.0, 3.0]


def test_reads_see_what_was_logged_before_them(server: Server) -> None:
    with kiln.start_run() as run:
        kiln.log_metrics({"a": 1.0, "b": 2.0}, step=3)
        seen = KilnClient().get_run(run.run_id).data.metrics

    assert seen == {"a": 1.0, "b": 2.0}


def test_a_refused_param_is_raised_at_end_run_naming_run_and_key(
    server: Server,
) -> None:
    run = kiln.start_run()
    kiln.log_param("lr", 0.1)
    kiln.log_metric("loss", 0.5)
    kiln.log_param("lr", 0.2)
    kiln.log_metric("loss", 0.4, step=1)

    with pytest.raises(InvalidParameterValue) as raised:
        kiln.end_run()

    message = str(raised.value)
    assert run.run_id in message and "'lr'" in message
    assert active.top() is None
    stored = server.store.get_run(run.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.params == {"lr": "0.1"}
    # Only the refused call was lost: both metric points are stored.
    points = server.store.get_metric_history(run.run_id, "loss")
    assert sorted(p.value for p in points) == [0.4, 0.5]


def test_a_refusal_is_raised_once_by_flush(server: Server) -> None:
    client = KilnClient()
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "depth", 3)
    client.log_param(run_id, "depth", 4)

    with pytest.raises(InvalidParameterValue, match="depth"):
        kiln.flush()
    kiln.flush()


def test_a_server_that_is_gone_is_reported_at_the_flush(server: Server) -> None:
    client = KilnClient()
    run_id = client.create_run("0").info.run_id
    server.stop()

    client.log_metric(run_id, "accuracy", 0.9)

    with pytest.raises(StorageUnavailable) as raised:
        kiln.flush()
    assert run_id in str(raised.value) and "'accuracy'" in str(raised.value)


_SCRIPT = """
import kiln
run = kiln.start_run()
print(run.run_id, flush=True)
for step in range(500):
    kiln.log_metric("m", step, step=step)
kiln.log_param("p", 1)
{extra}
"""


def _run_script(server: Server, extra: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_TRACKING_URI": server.url}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT.format(extra=extra))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_queued_logging_is_sent_at_interpreter_exit(server: Server) -> None:
    done = _run_script(server)

    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    run = server.store.get_run(run_id)
    assert run.info.status == RunStatus.FINISHED
    assert run.data.params == {"p": "1"}
    assert len(server.store.get_metric_history(run_id, "m")) == 500
    assert done.stderr == ""


def test_a_refusal_at_exit_is_reported_on_stderr(server: Server) -> None:
    done = _run_script(server, extra='kiln.log_param("p", 2)')

    run_id = done.stdout.strip()
    assert run_id in done.stderr and "'p'" in done.stderr
    assert server.store.get_run(run_id).info.status == RunStatus.FINISHED


def test_a_local_database_logs_synchronously(tracking_uri: str) -> None:
    client = KilnClient(tracking_uri)
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "lr", 1)

    assert not isinstance(client.store, batching.BatchingStore)
    with pytest.raises(InvalidParameterValue):
        client.log_param(run_id, "lr", 2)


class Recording:
    """A fake store: log_batch records each request, optionally waiting."""

    def __init__(self) -> None:
        self.requests: list[tuple[list[Metric], list[Param], list[RunTag]]] = []
        self.release = threading.Event()
        self.release.set()

    def log_batch(
        self,
        run_id: str,
        metrics: list[Metric],
        params: list[Param],
        tags: list[RunTag],
    ) -> None:
        self.release.wait()
        self.requests.append((list(metrics), list(params), list(tags)))


def test_requests_stay_within_the_limits_and_keep_the_order() -> None:
    store = Recording()
    store.release.clear()
    sender = batching._Sender()
    params = [Param(f"p{i}", "v") for i in range(250)]
    tags = [RunTag(f"t{i}", "v") for i in range(150)]
    metrics = [Metric("m", float(i), 0, i) for i in range(2500)]

    sender.submit(batching._Call(store, "r", metrics=(metrics[0],)))
    for start in range(0, 250, 50):
        chunk = tuple(params[start : start + 50])
        sender.submit(batching._Call(store, "r", params=chunk))
    sender.submit(batching._Call(store, "r", tags=tuple(tags)))
    for metric in metrics[1:]:
        sender.submit(batching._Call(store, "r", metrics=(metric,)))
    store.release.set()
    sender.drain()

    for sent_metrics, sent_params, sent_tags in store.requests:
        assert len(sent_params) <= MAX_BATCH_PARAMS
        assert len(sent_tags) <= MAX_BATCH_TAGS
        assert len(sent_metrics) + len(sent_params) + len(sent_tags) <= (
            MAX_BATCH_ENTITIES
        )
    assert [p for r in store.requests for p in r[1]] == params
    assert [t for r in store.requests for t in r[2]] == tags
    assert [m for r in store.requests for m in r[0]] == metrics
    assert len(store.requests) < 10


def test_a_full_queue_makes_logging_wait() -> None:
    store = Recording()
    store.release.clear()
    sender = batching._Sender(capacity=2)
    point = (Metric("m", 1.0, 0, 0),)
    # Calls for different runs are never merged: one is being sent, two
    # wait, and the queue is full.
    for run_id in ("r1", "r2", "r3"):
        sender.submit(batching._Call(store, run_id, metrics=point))
    time.sleep(0.1)

    call = batching._Call(store, "r4", metrics=point)
    blocked = threading.Thread(target=sender.submit, args=(call,))
    blocked.start()
    blocked.join(timeout=0.3)
    waited = blocked.is_alive()
    store.release.set()
    blocked.join(timeout=5)
    sender.drain()

    assert waited and not blocked.is_alive()
    assert sum(len(r[0]) for r in store.requests) == 4
