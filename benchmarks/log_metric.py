"""Fluent ``log_metric`` calls in a loop inside one run.

Timed: starting the run, every ``log_metric`` call and ending the run (so
any logging a library defers until the run ends is counted too).
"""

from __future__ import annotations

from pathlib import Path

from _harness import Sizes, Workload, check, main, timed


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    import kiln

    uri = f"sqlite:///{folder / 'kiln.db'}"
    kiln.set_tracking_uri(uri)
    kiln.set_experiment("bench")
    calls = sizes["calls"]
    run_ids: list[str] = []

    def log_in_one_run() -> None:
        with kiln.start_run() as run:
            for step in range(calls):
                kiln.log_metric("loss", 1.0 / (step + 1), step=step)
        run_ids.append(run.info.run_id)

    seconds = [timed(log_in_one_run) for _ in range(measurements)]
    history = kiln.KilnClient(uri).get_metric_history(run_ids[-1], "loss")
    check(len(history) == calls, f"Kiln stored {len(history)} of {calls} points")
    return seconds


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    import mlflow

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench")
    calls = sizes["calls"]
    run_ids: list[str] = []

    def log_in_one_run() -> None:
        with mlflow.start_run() as run:
            for step in range(calls):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        run_ids.append(run.info.run_id)

    seconds = [timed(log_in_one_run) for _ in range(measurements)]
    history = mlflow.MlflowClient(uri).get_metric_history(run_ids[-1], "loss")
    check(len(history) == calls, f"MLflow stored {len(history)} of {calls} points")
    return seconds


WORKLOAD = Workload(
    name="log_metric",
    description="log_metric calls in a loop inside one run (fluent API)",
    unit="calls",
    sizes={"calls": 10_000},
    quick_sizes={"calls": 500},
    items=lambda sizes: sizes["calls"],
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_ratio=50,
    default_repeat=(3, 1),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
