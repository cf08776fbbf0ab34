"""Kiln's quick start: train a tiny model three ways, then find the best run.

Each run fits ``y = w * x + b`` to a few points by gradient descent with a
different learning rate, and logs its params, its loss at every epoch, a tag
and a short text report. Then a search picks the best run.

Run it with ``./scripts/run``, or ``python examples/quickstart.py`` inside the
virtual environment. Runs go to $KILN_TRACKING_URI (or $MLFLOW_TRACKING_URI)
when set, else to ``kiln-data/kiln.db`` in the working directory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import kiln

EXPERIMENT = "quickstart"
LEARNING_RATES = (0.3, 0.05, 0.005)
EPOCHS = 30
POINTS = [(0.0, 2.1), (1.0, 4.9), (2.0, 8.2), (3.0, 10.9), (4.0, 14.1)]


def mean_squared_error(w: float, b: float) -> float:
    return sum((w * x + b - y) ** 2 for x, y in POINTS) / len(POINTS)


def fit(learning_rate: float) -> str:
    """Fit the line with one learning rate in a new run; return the run id."""
    with kiln.start_run(run_name=f"lr-{learning_rate}") as run:
        kiln.log_params({"learning_rate": learning_rate, "epochs": EPOCHS})
        kiln.set_tag("model", "linear")

        w = b = 0.0
        for epoch in range(EPOCHS):
            grad_w = sum(2 * (w * x + b - y) * x for x, y in POINTS) / len(POINTS)
            grad_b = sum(2 * (w * x + b - y) for x, y in POINTS) / len(POINTS)
            w -= learning_rate * grad_w / 10
            b -= learning_rate * grad_b / 10
            kiln.log_metric("loss", mean_squared_error(w, b), step=epoch)

        kiln.log_metric("final_loss", mean_squared_error(w, b))
        kiln.log_text(f"y = {w:.3f} * x + {b:.3f}\n", "report/model.txt")
        return run.info.run_id


def kiln_command() -> str:
    """How to call the ``kiln`` CLI from here: on PATH, or beside this Python."""
    if shutil.which("kiln"):
        return "kiln"
    beside = Path(sys.executable).parent / "kiln"
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def main() -> None:
    experiment = kiln.set_experiment(EXPERIMENT)
    run_ids = [fit(rate) for rate in LEARNING_RATES]

    best, *_ = kiln.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="tags.model = 'linear' AND metrics.final_loss < 10",
        order_by=["metrics.final_loss ASC"],
        max_results=1,
        output_format="list",
    )

    cli = kiln_command()
    print(f"Logged {len(run_ids)} runs to experiment {EXPERIMENT!r}", end=" ")
    print(f"(id {experiment.experiment_id}) at {kiln.get_tracking_uri()}")
    print(f"Artifacts are under {experiment.artifact_location}")
    print(
        f"Best run: {best.info.run_name} ({best.info.run_id}), "
        f"final loss {best.data.metrics['final_loss']:.4f}"
    )
    print("\nLook at them with the CLI:")
    print(f"  {cli} runs list --experiment-id {experiment.experiment_id}")
    print(f"  {cli} runs describe --run-id {best.info.run_id}")
    print(f"  {cli} artifacts list --run-id {best.info.run_id} -a report")


if __name__ == "__main__":
    main()
