"""The full history of one long metric through ``metrics/get-history``.

Seeded (not timed) through each project's own store in-process: one run with
one metric of many steps, logged in batches of 1000. Timed: reading every
point over HTTP in pages of 25,000 (``max_results`` and ``page_token``, as
the clients page), after one untimed warm-up read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server_common import (
    HttpClient,
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    main,
    timed,
)

CHUNK = 1000
PAGE = 25_000
KEY = "loss"
BASE_TIMESTAMP = 1_700_000_000_000


def seed(side: str, folder: Path, sizes: Sizes) -> dict[str, Any]:
    if side == "kiln":
        from kiln import KilnClient
        from kiln.entities import Metric

        client: Any = KilnClient(f"sqlite:///{folder / 'kiln.db'}")
    else:
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    steps = sizes["steps"]
    for start in range(0, steps, CHUNK):
        chunk = [
            Metric(KEY, 1.0 / (step + 1), BASE_TIMESTAMP + step, step)
            for step in range(start, min(start + CHUNK, steps))
        ]
        client.log_batch(run_id, metrics=chunk)
    return {"run_id": run_id}


def _read_history(client: HttpClient, run_id: str) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    token = ""
    while True:
        query: dict[str, Any] = {
            "run_id": run_id,
            "metric_key": KEY,
            "max_results": PAGE,
        }
        if token:
            query["page_token"] = token
        page = client.get("/metrics/get-history", query)
        points.extend(page.get("metrics", []))
        token = page.get("next_page_token", "")
        if not token:
            return points


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    client = server.client()
    steps = sizes["steps"]
    fetched: list[dict[str, Any]] = []

    def fetch() -> None:
        fetched[:] = _read_history(client, facts["run_id"])

    fetch()
    timing = Timing(f"get-history of {steps:,} steps", "points", steps)
    timing.seconds = [timed(fetch) for _ in range(repeat)]
    check(len(fetched) == steps, f"fetched {len(fetched)} of {steps} points")
    check(
        sorted(int(p["step"]) for p in fetched) == list(range(steps)),
        "the pages do not hold every step once",
    )
    client.close()
    return [timing]


BENCHMARK = ServerBenchmark(
    name="server_metric_history",
    description=f"metrics/get-history of one metric, in pages of {PAGE:,}",
    measure=measure,
    sizes={"steps": 100_000},
    quick_sizes={"steps": 10_000},
    seed=seed,
    targets={"get-history of 100,000 steps": 20, "get-history of 10,000 steps": 20},
    default_repeat=(5, 3),
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
