"""Quick calls on the event loop never wait there for SQLite's write lock.

Over SQLite, quick endpoints run their store call on the event loop. When
another connection (a second worker, a training script) holds the write
lock, a write moves to a worker thread and waits there, so the worker keeps
answering other requests meanwhile.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .conftest import API, MakeClient, create_run
from .processes import running_server

# Long enough that a request waiting on the event loop would clearly show.
HOLD_SECONDS = 3.0


@contextmanager
def write_lock_held(database: Path) -> Iterator[threading.Event]:
    """Hold the write lock of ``database`` from another connection until the
    yielded event is set (or :data:`HOLD_SECONDS` pass)."""
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        holder = sqlite3.connect(database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(HOLD_SECONDS)
            holder.execute("ROLLBACK")
        finally:
            holder.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join()


def in_background(call: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
    """Start ``call`` in a thread; the returned function waits for its answer."""
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()

    def result() -> httpx.Response:
        thread.join(HOLD_SECONDS + 30)
        return answers[0]

    return result


def metric(run_id: str) -> dict[str, object]:
    return {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1, "step": 3}


def test_a_held_write_lock_does_not_stall_the_event_loop(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(inline_quick_calls=True)
    run_id = create_run(client)

    with write_lock_held(tmp_path / "kiln.db") as release:
        logged = in_background(
            lambda: client.post(f"{API}/runs/log-metric", json=metric(run_id))
        )
        time.sleep(0.2)
        started = time.monotonic()
        health = client.get("/health")
        run = client.get(f"{API}/runs/get", params={"run_id": run_id})
        answered_in = time.monotonic() - started
        release.set()
        stored = logged()

    assert health.text == "OK"
    assert run.status_code == 200
    assert answered_in < 1.0
    assert stored.status_code == 200, stored.text
    history = client.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
    )
    assert [m["step"] for m in history.json()["metrics"]] == [3]


@pytest.mark.slow
def test_a_server_worker_answers_health_while_another_connection_writes(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path, "--workers", "1") as (base_url, _):
        api = f"{base_url}{API}"
        created = httpx.post(f"{api}/runs/create", json={"experiment_id": "0"})
        run_id = created.json()["run"]["info"]["run_id"]
        with write_lock_held(tmp_path / "kiln.db") as release:
            logged = in_background(
                lambda: httpx.post(
                    f"{api}/runs/log-metric", json=metric(run_id), timeout=60
                )
            )
            time.sleep(0.3)
            started = time.monotonic()
            health = httpx.get(f"{base_url}/health", timeout=HOLD_SECONDS)
            answered_in = time.monotonic() - started
            release.set()
            stored = logged()
        history = httpx.get(
            f"{api}/metrics/get-history",
            params={"run_id": run_id, "metric_key": "loss"},
        )

    assert health.text == "OK"
    assert answered_in < 1.0
    assert stored.status_code == 200, stored.text
    assert [m["step"] for m in history.json()["metrics"]] == [3]
