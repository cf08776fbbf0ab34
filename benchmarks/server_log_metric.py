"""Single ``runs/log-metric`` requests: one client in a loop, and 8 at once.

Timed: ``requests`` log-metric calls to one run from one keep-alive
connection; then the same number spread over 8 client threads, each with its
own connection and its own run. Each measurement uses new runs; the points
are read back afterwards to check that every one was stored.
"""

from __future__ import annotations

import threading
from typing import Any

from server_common import (
    HttpClient,
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    create_experiment,
    create_run,
    main,
    timed,
)

CLIENTS = 8
BASE_TIMESTAMP = 1_700_000_000_000


def _log_points(client: HttpClient, run_id: str, count: int) -> None:
    for step in range(count):
        body = {
            "run_id": run_id,
            "key": "loss",
            "value": 1.0 / (step + 1),
            "timestamp": BASE_TIMESTAMP + step,
            "step": step,
        }
        client.post("/runs/log-metric", body)


def _check_points(client: HttpClient, run_id: str, count: int) -> None:
    query = {"run_id": run_id, "metric_key": "loss", "max_results": 25000}
    points = client.get("/metrics/get-history", query).get("metrics", [])
    check(len(points) == count, f"run {run_id} has {len(points)} of {count} points")


def _sequential(server: Server, experiment_id: str, count: int) -> float:
    client = server.client()
    run_id = create_run(client, experiment_id)
    seconds = timed(lambda: _log_points(client, run_id, count))
    _check_points(client, run_id, count)
    client.close()
    return seconds


def _concurrent(server: Server, experiment_id: str, count: int) -> float:
    clients = [server.client() for _ in range(CLIENTS)]
    run_ids = [create_run(client, experiment_id) for client in clients]
    per_client = count // CLIENTS
    start = threading.Barrier(CLIENTS + 1)

    def work(client: HttpClient, run_id: str) -> None:
        start.wait()
        _log_points(client, run_id, per_client)

    threads = [
        threading.Thread(target=work, args=pair)
        for pair in zip(clients, run_ids, strict=True)
    ]
    for thread in threads:
        thread.start()

    def run_all() -> None:
        start.wait()
        for thread in threads:
            thread.join()

    seconds = timed(run_all)
    for client in clients:
        client.close()
    # A fresh connection: the early finishers' ones may have idled out.
    checker = server.client()
    for run_id in run_ids:
        _check_points(checker, run_id, per_client)
    checker.close()
    return seconds


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    count = sizes["requests"]
    experiment_id = create_experiment(server.client(), "bench")
    # One untimed round first, so both servers have warmed their caches.
    _sequential(server, experiment_id, min(count, 50))
    sequential = Timing("sequential log-metric", "requests", count)
    concurrent = Timing(f"{CLIENTS} concurrent clients", "requests", count)
    for _ in range(repeat):
        sequential.seconds.append(_sequential(server, experiment_id, count))
        concurrent.seconds.append(_concurrent(server, experiment_id, count))
    return [sequential, concurrent]


BENCHMARK = ServerBenchmark(
    name="server_log_metric",
    description="runs/log-metric requests, sequential and from 8 clients at once",
    measure=measure,
    sizes={"requests": 4000},
    quick_sizes={"requests": 400},
    mlflow_sizes={"requests": 800},
    targets={"sequential log-metric": 15, f"{CLIENTS} concurrent clients": 15},
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
