"""Fetching the full history of one long metric.

Set up (not timed): one run with one metric of many steps, logged with
``log_batch``. Timed: ``get_metric_history`` for that metric, after one
untimed warm-up call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _harness import Sizes, Workload, check, main, timed

CHUNK = 1000
BASE_TIMESTAMP = 1_700_000_000_000


def _fill_and_time(
    client: Any, metric_type: Any, sizes: Sizes, measurements: int
) -> list[float]:
    steps = sizes["steps"]
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    for start in range(0, steps, CHUNK):
        chunk = [
            metric_type("loss", 1.0 / (step + 1), BASE_TIMESTAMP + step, step)
            for step in range(start, min(start + CHUNK, steps))
        ]
        client.log_batch(run_id, metrics=chunk)

    fetched: list[Any] = []

    def fetch() -> None:
        fetched[:] = client.get_metric_history(run_id, "loss")

    fetch()
    seconds = [timed(fetch) for _ in range(measurements)]
    check(len(fetched) == steps, f"fetched {len(fetched)} of {steps} points")
    check(fetched[-1].step == steps - 1, "the last point is not the last step")
    return seconds


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from kiln import KilnClient
    from kiln.entities import Metric

    client = KilnClient(f"sqlite:///{folder / 'kiln.db'}")
    return _fill_and_time(client, Metric, sizes, measurements)


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    return _fill_and_time(client, Metric, sizes, measurements)


WORKLOAD = Workload(
    name="metric_history",
    description="get_metric_history of one metric (client API)",
    unit="points",
    sizes={"steps": 100_000},
    quick_sizes={"steps": 10_000},
    items=lambda sizes: sizes["steps"],
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_ratio=20,
    setup_once=True,
    default_repeat=(5, 3),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
