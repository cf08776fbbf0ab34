"""Two server workers over PostgreSQL keep everything concurrent writers logged.

``kiln server --workers 2`` runs against a throwaway PostgreSQL database
while 8 writer threads, each with its own keep-alive connection, log
metrics, params, tags and batches to their own runs and to one shared run.
Every request the server acknowledged must then be in the database, read
back through the store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiln.store.sql.store import SqlStore

from .processes import free_port, wait_for_health

pytestmark = pytest.mark.postgres

API = "/api/2.0/mlflow"
WRITERS = 8
ROUNDS = 20
BATCH_POINTS = 20
SHARED_KEY = "shared"


@dataclass
class Acknowledged:
    """What the server answered 200 to, per run: metric points, params, tags."""

    points: dict[tuple[str, str], set[tuple[int, int, float]]] = field(
        default_factory=dict
    )
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, run_id: str, body: dict[str, Any]) -> None:
        with self.lock:
            for metric in body.get("metrics", []):
                point = (metric["step"], metric["timestamp"], metric["value"])
                self.points.setdefault((run_id, metric["key"]), set()).add(point)
            for param in body.get("params", []):
                self.params.setdefault(run_id, {})[param["key"]] = param["value"]
            for tag in body.get("tags", []):
                self.tags.setdefault(run_id, {})[tag["key"]] = tag["value"]


@contextmanager
def postgres_server(uri: str, folder: Path, workers: int) -> Iterator[str]:
    """Run ``kiln server`` with ``workers`` processes over ``uri``."""
    port = free_port()
    kiln = Path(sys.executable).with_name("kiln")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    command = [
        str(kiln),
        "server",
        "--backend-store-uri",
        uri,
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for_health(f"{base_url}/health", process)
            yield base_url
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=20)


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _create_run(client: httpx.Client, experiment_id: str) -> str:
    run = _post(client, "/runs/create", {"experiment_id": experiment_id})
    run_id: str = run["run"]["info"]["run_id"]
    return run_id


def _metric(key: str, step: int, writer: int) -> dict[str, Any]:
    return {
        "key": key,
        "value": step + writer / 100,
        "timestamp": 1_700_000_000_000 + step,
        "step": step,
    }


def _write(
    base_url: str, writer: int, experiment_id: str, shared_run: str, acked: Acknowledged
) -> None:
    """One writer's requests; each is recorded once the server acknowledged it."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        own_run = _create_run(client, experiment_id)
        for step in range(ROUNDS):
            single = {"run_id": own_run, **_metric("loss", step, writer)}
            _post(client, "/runs/log-metric", single)
            acked.add(own_run, {"metrics": [_metric("loss", step, writer)]})

            param = {"run_id": own_run, "key": f"p{step}", "value": f"v{writer}"}
            _post(client, "/runs/log-parameter", param)
            acked.add(
                own_run, {"params": [{"key": param["key"], "value": f"v{writer}"}]}
            )

            batch = {
                "metrics": [
                    _metric(f"m{i % 4}", step * BATCH_POINTS + i, writer)
                    for i in range(BATCH_POINTS)
                ],
                "params": [{"key": f"b{step}", "value": str(step)}],
                "tags": [{"key": f"t{step % 3}", "value": f"{writer}-{step}"}],
            }
            _post(client, "/runs/log-batch", {"run_id": own_run, **batch})
            acked.add(own_run, batch)

            # Every writer logs to the same key of the shared run, on steps
            # of its own, plus params and tags of its own.
            shared = {
                "metrics": [_metric(SHARED_KEY, step * WRITERS + writer, writer)],
                "params": [{"key": f"w{writer}-p{step}", "value": str(step)}],
                "tags": [{"key": f"w{writer}", "value": str(step)}],
            }
            _post(client, "/runs/log-batch", {"run_id": shared_run, **shared})
            acked.add(shared_run, shared)


def _stored_points(
    store: SqlStore, run_id: str, key: str
) -> set[tuple[int, int, float]]:
    history = store.get_metric_history(run_id, key)
    return {(point.step, point.timestamp, point.value) for point in history}


def test_two_workers_keep_every_acknowledged_write(
    fresh_postgres_uri: str, tmp_path: Path
) -> None:
    acked = Acknowledged()
    errors: list[BaseException] = []

    with postgres_server(fresh_postgres_uri, tmp_path, workers=2) as base_url:
        with httpx.Client(base_url=base_url) as client:
            experiment = _post(client, "/experiments/create", {"name": "writers"})
            experiment_id = experiment["experiment_id"]
            shared_run = _create_run(client, experiment_id)

        def write(writer: int) -> None:
            try:
                _write(base_url, writer, experiment_id, shared_run, acked)
            except BaseException as exc:  # re-raised below, in the test's thread
                errors.append(exc)

        threads = [
            threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors
    assert len(acked.params) == WRITERS + 1
    store = SqlStore(fresh_postgres_uri, "mlflow-artifacts:/")
    try:
        for (run_id, key), points in acked.points.items():
            assert _stored_points(store, run_id, key) == points, (run_id, key)
        for run_id, params in acked.params.items():
            run = store.get_run(run_id)
            assert run.data.params == params
            assert acked.tags.get(run_id, {}).items() <= run.data.tags.items()
        latest = max(acked.points[(shared_run, SHARED_KEY)])
        assert store.get_run(shared_run).data.metrics[SHARED_KEY] == latest[2]
    finally:
        store.close()
