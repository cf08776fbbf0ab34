"""``runs/log-batch`` requests of 1000 metric points each, to one run.

Timed: ``requests`` log-batch calls of 1000 points (10 keys, 100 steps each)
from one keep-alive connection. Each measurement uses a new run; the points
of one key are read back afterwards to check that all were stored.
"""

from __future__ import annotations

from typing import Any

from server_common import (
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    create_experiment,
    create_run,
    encode_body,
    main,
    timed,
)

POINTS = 1000
KEYS = 10
BASE_TIMESTAMP = 1_700_000_000_000


def _batch(run_id: str, request: int) -> dict[str, Any]:
    steps = POINTS // KEYS
    return {
        "run_id": run_id,
        "metrics": [
            {
                "key": f"m{i % KEYS}",
                "value": (request * POINTS + i) * 0.001,
                "timestamp": BASE_TIMESTAMP + request,
                "step": request * steps + i // KEYS,
            }
            for i in range(POINTS)
        ],
    }


def _measure_once(server: Server, experiment_id: str, requests: int) -> float:
    client = server.client()
    run_id = create_run(client, experiment_id)
    bodies = [encode_body(_batch(run_id, request)) for request in range(requests)]

    def send_all() -> None:
        for body in bodies:
            client.post("/runs/log-batch", body)

    seconds = timed(send_all)
    query = {"run_id": run_id, "metric_key": "m0", "max_results": 25000}
    points = client.get("/metrics/get-history", query).get("metrics", [])
    expected = requests * POINTS // KEYS
    check(len(points) == expected, f"m0 has {len(points)} of {expected} points")
    client.close()
    return seconds


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    requests = sizes["requests"]
    experiment_id = create_experiment(server.client(), "bench")
    _measure_once(server, experiment_id, 2)
    timing = Timing(f"log-batch of {POINTS} metrics", "points", requests * POINTS)
    timing.seconds = [
        _measure_once(server, experiment_id, requests) for _ in range(repeat)
    ]
    return [timing]


BENCHMARK = ServerBenchmark(
    name="server_log_batch",
    description=f"runs/log-batch requests of {POINTS} metric points each",
    measure=measure,
    sizes={"requests": 100},
    quick_sizes={"requests": 10},
    mlflow_sizes={"requests": 20},
    targets={f"log-batch of {POINTS} metrics": 30},
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
