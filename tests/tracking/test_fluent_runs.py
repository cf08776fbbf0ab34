from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import kiln
from kiln.entities import RunStatus
from kiln.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceDoesNotExist,
    StorageUnavailable,
)
from kiln.tracking import active
from kiln.tracking.client import KilnClient


def test_context_manager_finishes_run(client: KilnClient) -> None:
    with kiln.start_run(run_name="ok") as run:
        assert kiln.active_run() is run
        assert run.info.status == RunStatus.RUNNING
    assert kiln.active_run() is None
    stored = client.get_run(run.info.run_id).info
    assert (stored.status, stored.run_name) == ("FINISHED", "ok")
    assert stored.end_time is not None


def test_context_manager_marks_failure_and_reraises(client: KilnClient) -> None:
    with pytest.raises(ZeroDivisionError), kiln.start_run() as run:
        _ = 1 / 0
    assert client.get_run(run.info.run_id).info.status == RunStatus.FAILED
    assert kiln.active_run() is None


def test_end_run_with_status(client: KilnClient) -> None:
    run = kiln.start_run()
    kiln.end_run(RunStatus.KILLED)
    assert client.get_run(run.info.run_id).info.status == RunStatus.KILLED
    kiln.end_run()  # nothing active: no error


def test_end_run_inside_block_is_not_repeated(client: KilnClient) -> None:
    with kiln.start_run() as run:
        kiln.end_run(RunStatus.KILLED)
    assert client.get_run(run.info.run_id).info.status == RunStatus.KILLED


def test_second_run_needs_nested() -> None:
    with kiln.start_run() as outer:
        with pytest.raises(InvalidState, match=outer.info.run_id):
            kiln.start_run()
        assert kiln.active_run() is outer


def test_nested_runs_carry_parent_tag(client: KilnClient) -> None:
    with kiln.start_run() as outer:
        with kiln.start_run(nested=True) as inner:
            assert kiln.active_run() is inner
            kiln.log_param("where", "inner")
        assert kiln.active_run() is outer
    inner_run = client.get_run(inner.info.run_id)
    assert inner_run.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert inner_run.data.params == {"where": "inner"}
    assert "mlflow.parentRunId" not in client.get_run(outer.info.run_id).data.tags


def test_leaving_outer_block_ends_open_inner_runs(client: KilnClient) -> None:
    with kiln.start_run() as outer:
        inner = kiln.start_run(nested=True)
    assert kiln.active_run() is None
    assert client.get_run(inner.info.run_id).info.status == RunStatus.FINISHED
    assert client.get_run(outer.info.run_id).info.status == RunStatus.FINISHED


def test_explicit_parent_run_id(client: KilnClient) -> None:
    parent = client.create_run("0").info.run_id
    with kiln.start_run(parent_run_id=parent) as child:
        pass
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent


def test_parent_must_be_the_active_run() -> None:
    with (
        kiln.start_run(),
        pytest.raises(InvalidParameterValue, match="child of run"),
    ):
        kiln.start_run(parent_run_id="f" * 32)


def test_unknown_parent_is_refused() -> None:
    with pytest.raises(ResourceDoesNotExist):
        kiln.start_run(parent_run_id="f" * 32)
    assert kiln.active_run() is None


def test_resume_by_id(client: KilnClient) -> None:
    with kiln.start_run(run_name="first") as run:
        kiln.log_metric("m", 1.0)
    with kiln.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as again:
        assert again.info.status == RunStatus.RUNNING
        assert again.data.tags["resumed"] == "yes"
        kiln.log_metric("m", 2.0, step=1)
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == RunStatus.FINISHED
    assert stored.data.metrics == {"m": 2.0}
    assert stored.info.run_name == "first"


def test_resume_checks_experiment_and_lifecycle(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    other = client.create_experiment("other")
    with pytest.raises(InvalidParameterValue, match="belongs to experiment"):
        kiln.start_run(run_id=run_id, experiment_id=other)
    client.delete_run(run_id)
    with pytest.raises(InvalidState, match="deleted"):
        kiln.start_run(run_id=run_id)
    assert kiln.active_run() is None


@pytest.mark.parametrize("variable", ["KILN_RUN_ID", "MLFLOW_RUN_ID"])
def test_run_id_from_environment_is_resumed(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    run_id = client.create_run("0").info.run_id
    monkeypatch.setenv(variable, run_id)
    with kiln.start_run() as run:
        assert run.info.run_id == run_id
        with kiln.start_run(nested=True) as child:
            assert child.info.run_id != run_id
            assert child.data.tags["mlflow.parentRunId"] == run_id


def test_explicit_parent_wins_over_environment_run(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_run = client.create_run("0").info.run_id
    parent = client.create_run("0").info.run_id
    monkeypatch.setenv("KILN_RUN_ID", env_run)
    with kiln.start_run(parent_run_id=parent) as child:
        assert child.info.run_id not in (env_run, parent)
        assert child.data.tags["mlflow.parentRunId"] == parent


def test_description_and_tags(client: KilnClient) -> None:
    with kiln.start_run(tags={"a": 1}, description="why this run") as run:
        pass
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["a"] == "1"
    assert tags["mlflow.note.content"] == "why this run"


def test_default_tags_on_new_runs(client: KilnClient) -> None:
    with kiln.start_run(run_name="tagged") as run:
        pass
    tags = client.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"] == run.info.user_id
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"]
    assert tags["mlflow.runName"] == "tagged"


def test_last_active_run() -> None:
    assert kiln.last_active_run() is None
    with kiln.start_run() as run:
        kiln.log_param("p", 1)
        current = kiln.last_active_run()
        assert current is not None and current.data.params == {"p": "1"}
    ended = kiln.last_active_run()
    assert ended is not None
    assert (ended.info.run_id, ended.info.status) == (run.info.run_id, "FINISHED")


def test_logging_without_a_run_starts_one(client: KilnClient) -> None:
    kiln.log_metric("m", 1.0)
    current = kiln.active_run()
    assert current is not None
    kiln.end_run()
    assert client.get_run(current.info.run_id).data.metrics == {"m": 1.0}


def test_get_run_reads_any_run(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    assert kiln.get_run(run_id).info.run_id == run_id


def test_active_run_is_ended_at_exit(tmp_path: Path, tracking_uri: str) -> None:
    script = (
        "import kiln\n"
        f"kiln.set_tracking_uri({tracking_uri!r})\n"
        "run = kiln.start_run()\n"
        "kiln.start_run(nested=True)\n"
        "print(run.info.run_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    run_id = done.stdout.strip()
    client = KilnClient(tracking_uri)
    assert client.get_run(run_id).info.status == RunStatus.FINISHED
    children = client.search_runs("0", f"tags.`mlflow.parentRunId` = '{run_id}'")
    assert [r.info.status for r in children] == [RunStatus.FINISHED]


def test_flush_returns(client: KilnClient) -> None:
    with kiln.start_run() as run:
        kiln.log_metric("m", 3.0)
        kiln.flush()
        assert client.get_run(run.info.run_id).data.metrics == {"m": 3.0}


def test_threads_cannot_both_start_a_top_level_run() -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            kiln.start_run()
            outcomes.append("started")
        except InvalidState:
            outcomes.append("refused")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert len(active.stack()) == 1
    kiln.end_run()


def test_refused_end_still_ends_the_other_runs(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = kiln.start_run()
    inner = kiln.start_run(nested=True)

    def refuse(run_id: str, status: str = "FINISHED") -> None:
        raise StorageUnavailable(f"Cannot end run {run_id!r} now.")

    monkeypatch.setattr(inner.client, "set_terminated", refuse)
    with pytest.raises(StorageUnavailable, match=inner.info.run_id):
        active.end(outer)
    assert kiln.active_run() is None
    assert client.get_run(outer.info.run_id).info.status == RunStatus.FINISHED
