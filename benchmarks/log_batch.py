"""Metric points sent with ``log_batch`` in chunks of 1000, to one run.

Timed: the ``log_batch`` calls only; the run and the point objects are made
before the clock starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _harness import Sizes, Workload, check, main, timed

KEYS = 10
CHUNK = 1000
BASE_TIMESTAMP = 1_700_000_000_000


def _points(metric_type: Any, total: int) -> list[Any]:
    return [
        metric_type(f"m{i % KEYS}", i * 0.5, BASE_TIMESTAMP + i, i // KEYS)
        for i in range(total)
    ]


def _chunks(points: list[Any]) -> list[list[Any]]:
    return [points[i : i + CHUNK] for i in range(0, len(points), CHUNK)]


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from kiln import KilnClient
    from kiln.entities import Metric

    client = KilnClient(f"sqlite:///{folder / 'kiln.db'}")
    experiment_id = client.create_experiment("bench")
    chunks = _chunks(_points(Metric, sizes["points"]))
    seconds = []
    for _ in range(measurements):
        run_id = client.create_run(experiment_id).info.run_id

        def log_all(run_id: str = run_id) -> None:
            for chunk in chunks:
                client.log_batch(run_id, metrics=chunk)

        seconds.append(timed(log_all))
    stored = len(client.get_metric_history(run_id, "m0"))
    check(stored == sizes["points"] // KEYS, f"Kiln stored {stored} points of m0")
    return seconds


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment_id = client.create_experiment("bench")
    chunks = _chunks(_points(Metric, sizes["points"]))
    seconds = []
    for _ in range(measurements):
        run_id = client.create_run(experiment_id).info.run_id

        def log_all(run_id: str = run_id) -> None:
            for chunk in chunks:
                client.log_batch(run_id, metrics=chunk)

        seconds.append(timed(log_all))
    stored = len(client.get_metric_history(run_id, "m0"))
    check(stored == sizes["points"] // KEYS, f"MLflow stored {stored} points of m0")
    return seconds


WORKLOAD = Workload(
    name="log_batch",
    description="log_batch of metric points in chunks of 1000 (client API)",
    unit="points",
    sizes={"points": 100_000},
    quick_sizes={"points": 10_000},
    items=lambda sizes: sizes["points"],
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_ratio=30,
    default_repeat=(3, 3),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
