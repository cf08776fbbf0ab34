"""A filtered, ordered ``search_runs`` over many runs.

Set up (not timed): runs with 5 params, 5 metrics and 3 tags each. Timed:
``search_runs`` with a metric and a param filter, ordered by a metric, one
page of up to 1000 runs, after one untimed warm-up search.

Kiln's runs are made through its client (create_run, then log_batch).
MLflow's client takes about 30 ms per run on SQLite, which would make the
setup alone last minutes, so MLflow's rows are bulk-inserted through its own
SQLAlchemy table definitions instead: the same rows its store writes
(runs, params, tags, metrics and latest_metrics).
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from _harness import Sizes, Workload, check, main, timed

FILTER = "metrics.m0 > 0.5 and params.p0 = 'a'"
ORDER_BY = ["metrics.m1 DESC"]
MAX_RESULTS = 1000
BASE_TIMESTAMP = 1_700_000_000_000


def _run_data(count: int) -> list[dict[str, Any]]:
    """The same pseudo-random metrics, params and tags for both libraries."""
    rng = random.Random(42)
    return [
        {
            "metrics": {f"m{j}": rng.random() for j in range(5)},
            "params": {f"p{j}": rng.choice("abcd") for j in range(5)},
            "tags": {f"t{j}": f"group-{(i + j) % 7}" for j in range(3)},
        }
        for i in range(count)
    ]


def _expected(runs: list[dict[str, Any]]) -> int:
    matches = sum(
        1 for r in runs if r["metrics"]["m0"] > 0.5 and r["params"]["p0"] == "a"
    )
    return min(matches, MAX_RESULTS)


def _time_search(
    search: Any, runs: list[dict[str, Any]], measurements: int
) -> list[float]:
    found: list[Any] = []

    def run_search() -> None:
        found[:] = search()

    run_search()
    seconds = [timed(run_search) for _ in range(measurements)]
    check(len(found) == _expected(runs), f"found {len(found)} runs")
    m1 = [run.data.metrics["m1"] for run in found]
    check(m1 == sorted(m1, reverse=True), "runs are not ordered by m1")
    check(len(found[0].data.params) == 5, "runs came back without their params")
    return seconds


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from kiln import KilnClient
    from kiln.entities import Metric, Param, RunTag

    client = KilnClient(f"sqlite:///{folder / 'kiln.db'}")
    experiment_id = client.create_experiment("bench")
    runs = _run_data(sizes["runs"])
    for i, data in enumerate(runs):
        run = client.create_run(experiment_id, start_time=BASE_TIMESTAMP + i)
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric(k, v, BASE_TIMESTAMP, 0) for k, v in data["metrics"].items()
            ],
            params=[Param(k, v) for k, v in data["params"].items()],
            tags=[RunTag(k, v) for k, v in data["tags"].items()],
        )

    def search() -> list[Any]:
        return list(
            client.search_runs(
                [experiment_id], FILTER, max_results=MAX_RESULTS, order_by=ORDER_BY
            )
        )

    return _time_search(search, runs, measurements)


def _mlflow_rows(
    experiment_id: int, runs: list[dict[str, Any]], root: Path
) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {
        "runs": [],
        "params": [],
        "tags": [],
        "metrics": [],
        "latest_metrics": [],
    }
    for i, data in enumerate(runs):
        run_id = uuid.uuid4().hex
        name = f"run-{i}"
        rows["runs"].append(
            {
                "run_uuid": run_id,
                "name": name,
                "experiment_id": experiment_id,
                "user_id": "bench",
                "status": "FINISHED",
                "start_time": BASE_TIMESTAMP + i,
                "end_time": BASE_TIMESTAMP + i + 1,
                "lifecycle_stage": "active",
                "artifact_uri": f"{root.as_uri()}/{run_id}/artifacts",
                "source_type": "LOCAL",
                "source_name": "",
                "entry_point_name": "",
                "source_version": "",
            }
        )
        tags = {**data["tags"], "mlflow.runName": name, "mlflow.user": "bench"}
        rows["tags"] += [
            {"run_uuid": run_id, "key": k, "value": v} for k, v in tags.items()
        ]
        rows["params"] += [
            {"run_uuid": run_id, "key": k, "value": v}
            for k, v in data["params"].items()
        ]
        for table in ("metrics", "latest_metrics"):
            rows[table] += [
                {
                    "run_uuid": run_id,
                    "key": k,
                    "value": v,
                    "timestamp": BASE_TIMESTAMP,
                    "step": 0,
                    "is_nan": False,
                }
                for k, v in data["metrics"].items()
            ]
    return rows


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from mlflow import MlflowClient
    from mlflow.store.tracking.dbmodels import models

    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment_id = client.create_experiment("bench")
    runs = _run_data(sizes["runs"])
    tables = {
        "runs": models.SqlRun,
        "params": models.SqlParam,
        "tags": models.SqlTag,
        "metrics": models.SqlMetric,
        "latest_metrics": models.SqlLatestMetric,
    }
    rows = _mlflow_rows(int(experiment_id), runs, folder / "mlruns")
    store = client._tracking_client.store
    with store.ManagedSessionMaker() as session:
        for name, model in tables.items():
            session.execute(model.__table__.insert(), rows[name])

    def search() -> list[Any]:
        return list(
            client.search_runs(
                [experiment_id], FILTER, max_results=MAX_RESULTS, order_by=ORDER_BY
            )
        )

    return _time_search(search, runs, measurements)


WORKLOAD = Workload(
    name="search_runs",
    description=(
        f"search_runs({FILTER!r}, order_by={ORDER_BY}, max_results={MAX_RESULTS})"
    ),
    unit="searches",
    sizes={"runs": 10_000},
    quick_sizes={"runs": 1_000},
    items=lambda sizes: 1,
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_ratio=20,
    setup_once=True,
    default_repeat=(5, 3),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
