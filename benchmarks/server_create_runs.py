"""Creating many runs over HTTP, each with one ``log-batch`` of its data.

Timed: for each run, ``runs/create`` and then one ``runs/log-batch`` with 5
metrics, 5 params and 3 tags, from one keep-alive connection. MLflow gets
fewer runs by default (about 60 ms per run; ``--mlflow-full`` gives it all);
rates in runs per second are compared. A search afterwards checks the count.
"""

from __future__ import annotations

import time
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
)

BASE_TIMESTAMP = 1_700_000_000_000


def _create_runs(client: HttpClient, experiment_id: str, count: int) -> None:
    for i in range(count):
        run_id = create_run(client, experiment_id)
        body = {
            "run_id": run_id,
            "metrics": [
                {"key": f"m{j}", "value": i * 0.1 + j, "timestamp": BASE_TIMESTAMP}
                for j in range(5)
            ],
            "params": [{"key": f"p{j}", "value": str(i % (j + 2))} for j in range(5)],
            "tags": [{"key": f"t{j}", "value": f"group-{i % 7}"} for j in range(3)],
        }
        client.post("/runs/log-batch", body)


def _count_runs(client: HttpClient, experiment_id: str) -> int:
    count = 0
    token = None
    while True:
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        page = client.post("/runs/search", body)
        count += len(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return count


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    count = sizes["runs"]
    client = server.client()
    _create_runs(client, create_experiment(client, "warm-up"), 5)
    timing = Timing("create run + log-batch", "runs", count)
    for attempt in range(repeat):
        experiment_id = create_experiment(client, f"bench-{attempt}")
        started = time.perf_counter()
        _create_runs(client, experiment_id, count)
        timing.seconds.append(time.perf_counter() - started)
        found = _count_runs(client, experiment_id)
        check(found == count, f"found {found} of {count} runs")
    client.close()
    return [timing]


BENCHMARK = ServerBenchmark(
    name="server_create_runs",
    description="runs/create then one runs/log-batch per run",
    measure=measure,
    sizes={"runs": 10_000},
    quick_sizes={"runs": 300},
    mlflow_sizes={"runs": 500},
    targets={"create run + log-batch": 20},
    default_repeat=(1, 1),
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
