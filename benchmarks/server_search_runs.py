"""``runs/search`` over many runs: everything, a filtered order, a tag LIKE.

Seeded (not timed) through each project's own store in-process, with the same
runs as ``search_runs.py`` (5 params, 5 metrics, 3 tags each): Kiln's through
its SQL store, MLflow's bulk-inserted through its own table definitions.
Timed: single ``runs/search`` requests of up to 1000 runs, each case after
one untimed warm-up request. Both servers run at once and are timed in
turns (see :func:`measure_together`), each request on a fresh connection
opened before the clock starts; the clock stops at the answer's last byte,
before the load generator parses it. Every answer is checked for its size
and order.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from server_common import (
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    in_turns,
    main,
)

MAX_RESULTS = 1000
FILTERED = "metrics.m0 > 0.5 and params.p0 = 'a'"
ORDER_BY = ["metrics.m1 DESC"]
TAG_LIKE = "tags.t0 LIKE 'group-1%'"
BASE_TIMESTAMP = 1_700_000_000_000

# case -> (filter, order_by, how many runs match among the seeded ones)
CASES: dict[str, tuple[str, list[str]]] = {
    "no filter": ("", []),
    "metric and param filter, ordered by a metric": (FILTERED, ORDER_BY),
    "tag LIKE": (TAG_LIKE, []),
}


def _matches(case: str, data: dict[str, Any]) -> bool:
    if case == "no filter":
        return True
    if case == "tag LIKE":
        return bool(data["tags"]["t0"].startswith("group-1"))
    return bool(data["metrics"]["m0"] > 0.5 and data["params"]["p0"] == "a")


def seed(side: str, folder: Path, sizes: Sizes) -> dict[str, Any]:
    from search_runs import _run_data

    runs = _run_data(sizes["runs"])
    if side == "kiln":
        return {"experiment_id": _seed_kiln(folder, runs)}
    return {"experiment_id": _seed_mlflow(folder, runs)}


def _seed_kiln(folder: Path, runs: list[dict[str, Any]]) -> str:
    from kiln.entities import Metric, Param, RunTag
    from kiln.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{folder / 'kiln.db'}", "mlflow-artifacts:/")
    experiment_id = store.create_experiment("bench")
    for i, data in enumerate(runs):
        run = store.create_run(experiment_id, "bench", BASE_TIMESTAMP + i, [], None)
        store.log_batch(
            run.info.run_id,
            metrics=[
                Metric(k, v, BASE_TIMESTAMP, 0) for k, v in data["metrics"].items()
            ],
            params=[Param(k, v) for k, v in data["params"].items()],
            tags=[RunTag(k, v) for k, v in data["tags"].items()],
        )
    store.close()
    return experiment_id


def _seed_mlflow(folder: Path, runs: list[dict[str, Any]]) -> str:
    from mlflow import MlflowClient
    from mlflow.store.tracking.dbmodels import models
    from search_runs import _mlflow_rows

    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment_id = client.create_experiment("bench")
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
    return str(experiment_id)


def _check_answer(case: str, answer: dict[str, Any], expected: int) -> None:
    found = answer.get("runs", [])
    check(len(found) == expected, f"{case}: found {len(found)} of {expected} runs")
    if case.endswith("ordered by a metric"):
        m1 = [_metric(run, "m1") for run in found]
        check(m1 == sorted(m1, reverse=True), f"{case}: not ordered by m1")
    params = found[0]["data"].get("params", [])
    check(len(params) == 5, f"{case}: runs came back without their params")


def _metric(run: dict[str, Any], key: str) -> float:
    for metric in run["data"]["metrics"]:
        if metric["key"] == key:
            return float(metric["value"])
    raise SystemExit(f"Benchmark sanity check failed: a run lacks metric {key!r}")


def measure_together(
    servers: dict[str, Server], sizes: dict[str, Sizes], repeats: dict[str, int]
) -> dict[str, list[Timing]]:
    """Time each case on every side in turns.

    After one untimed warm-up per side, each case's measurements run on the
    sides in turns (see :func:`~server_common.in_turns`).
    """
    from search_runs import _run_data

    order = list(servers)
    timings: dict[str, list[Timing]] = {side: [] for side in order}
    for case, (filter_string, order_by) in CASES.items():
        bodies = {
            side: {
                "experiment_ids": [servers[side].facts["experiment_id"]],
                "filter": filter_string,
                "order_by": order_by,
                "max_results": MAX_RESULTS,
            }
            for side in order
        }
        answers = {side: _search(servers[side], bodies[side], None) for side in order}
        case_timings = {side: Timing(case, "searches", 1) for side in order}
        for side in in_turns({side: repeats[side] for side in order}):
            answers[side] = _search(servers[side], bodies[side], case_timings[side])
        for side in order:
            runs = _run_data(sizes[side]["runs"])
            expected = min(MAX_RESULTS, sum(_matches(case, data) for data in runs))
            _check_answer(case, answers[side], expected)
            timings[side].append(case_timings[side])
    return timings


def _search(
    server: Server, body: dict[str, Any], timing: Timing | None
) -> dict[str, Any]:
    """One search on a fresh connection; timed into ``timing`` unless None,
    from the request's first byte to the answer's last (parsing the answer
    is left out of the time)."""
    client = server.connected_client()
    try:
        started = time.perf_counter()
        data = client.post_raw("/runs/search", body)
        if timing is not None:
            timing.seconds.append(time.perf_counter() - started)
        return client.parse(data)
    finally:
        client.close()


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    """One side alone: the same cases as :func:`measure_together`."""
    server.facts = facts
    side = server.side
    return measure_together({side: server}, {side: sizes}, {side: repeat})[side]


BENCHMARK = ServerBenchmark(
    name="server_search_runs",
    description=f"runs/search pages of up to {MAX_RESULTS} runs",
    measure=measure,
    sizes={"runs": 10_000},
    quick_sizes={"runs": 1_000},
    seed=seed,
    targets={case: 20 for case in CASES},
    default_repeat=(7, 5),
    measure_together=measure_together,
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
