"""The client and the fluent API on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import kiln
from kiln.entities import Metric, Param, RunStatus
from kiln.store.sql.store import SqlStore
from kiln.tracking.client import KilnClient


def test_client_round_trip(store: SqlStore, tmp_path: Path) -> None:
    client = KilnClient("sqlite:///unused.db", store=store)
    experiment_id = client.create_experiment("both", tags={"k": "v"})
    run = client.create_run(experiment_id, run_name="r", tags={"t": 1})
    run_id = run.info.run_id

    client.log_batch(
        run_id,
        metrics=[Metric("m", i * 1.5, 10 + i, i) for i in range(1200)],
        params=[Param(f"p{i}", str(i)) for i in range(120)],
    )
    client.log_metric(run_id, "single", 2)
    client.set_tag(run_id, "stage", "x")
    client.set_terminated(run_id)

    stored = client.get_run(run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.metrics == {"m": 1199 * 1.5, "single": 2.0}
    assert len(stored.data.params) == 120
    history = client.get_metric_history(run_id, "m")
    assert [p.step for p in history] == list(range(1200))
    found = client.search_runs([experiment_id], "params.p3 = '3'")
    assert [r.info.run_id for r in found] == [run_id]

    source = tmp_path / "a.txt"
    source.write_text("a")
    client.log_artifact(run_id, source, "files")
    assert [f.path for f in client.list_artifacts(run_id, "files")] == ["files/a.txt"]


def test_fluent_round_trip(db_uri: str) -> None:
    kiln.set_tracking_uri(db_uri)
    kiln.set_experiment("fluent")
    with kiln.start_run(run_name="outer") as outer:
        kiln.log_params({"a": 1})
        with kiln.start_run(nested=True):
            for step in range(20):
                kiln.log_metric("loss", 1 / (step + 1), step=step)
    df = kiln.search_runs()
    assert len(df) == 2
    assert set(df["tags.mlflow.parentRunId"].dropna()) == {outer.info.run_id}
    assert set(df["status"]) == {"FINISHED"}
