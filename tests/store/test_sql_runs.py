from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest

from kiln.entities import LifecycleStage, Param, RunStatus, RunTag
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.base import TrackingStore
from kiln.store.lock_wait import WriteLockBusy, bounded_lock_wait
from kiln.store.sql.store import SqlStore
from kiln.wire import dumps, run_to_dict

NAME_RE = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")


def test_sql_store_implements_the_tracking_store_protocol(store: SqlStore) -> None:
    assert isinstance(store, TrackingStore)


def test_create_run_fills_info_and_tags(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp")
    run = store.create_run(exp_id, "alice", 1234, [RunTag("a", "1")], "my-run")
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == exp_id
    assert (info.user_id, info.start_time, info.end_time) == ("alice", 1234, None)
    assert info.status == RunStatus.RUNNING
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    location = store.get_experiment(exp_id).artifact_location
    assert info.artifact_uri == f"{location}/{info.run_id}/artifacts"
    assert info.run_name == "my-run"
    assert run.data.tags == {"a": "1", "mlflow.runName": "my-run"}
    assert store.get_run(info.run_id) == run


def test_create_run_without_name_picks_a_readable_one(store: SqlStore) -> None:
    run = store.create_run("0", "u", None, [], None)
    assert NAME_RE.match(run.info.run_name)
    assert run.data.tags["mlflow.runName"] == run.info.run_name
    assert run.info.start_time is not None and run.info.start_time > 0


def test_create_run_takes_name_from_tag(store: SqlStore) -> None:
    run = store.create_run("0", "u", None, [RunTag("mlflow.runName", "tagged")], None)
    assert run.info.run_name == "tagged"
    same = store.create_run("0", "u", None, [RunTag("mlflow.runName", "x")], "x")
    assert same.info.run_name == "x"


def _run_count(store: SqlStore) -> int:
    from kiln.entities import ViewType

    return len(store.search_runs(["0"], run_view_type=ViewType.ALL))


@pytest.mark.parametrize(
    ("experiment_id", "tags", "name", "error"),
    [
        ("0", [RunTag("mlflow.runName", "a")], "b", InvalidParameterValue),
        ("0", [RunTag("bad key?", "v")], None, InvalidParameterValue),
        ("0", [RunTag("k", "v" * 8001)], None, InvalidParameterValue),
        ("0", [], "n" * 251, InvalidParameterValue),
        ("999", [], None, ResourceDoesNotExist),
        ("x", [], None, InvalidParameterValue),
    ],
)
def test_create_run_refuses_bad_input_and_stores_nothing(
    store: SqlStore,
    experiment_id: str,
    tags: list[RunTag],
    name: str | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        store.create_run(experiment_id, "u", None, tags, name)
    assert _run_count(store) == 0


def test_create_run_in_deleted_experiment_is_refused(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.create_run(exp_id, "u", None, [], None)


def test_get_run_unknown_and_invalid_ids(store: SqlStore) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.get_run("0" * 32)
    with pytest.raises(InvalidParameterValue):
        store.get_run("../etc")


def test_update_run_info_changes_status_end_time_and_name(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "before").info.run_id
    info = store.update_run_info(run_id, RunStatus.FINISHED, 99, "after")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 99, "after")
    run = store.get_run(run_id)
    assert run.info == info
    assert run.data.tags["mlflow.runName"] == "after"
    # None leaves a field as it was.
    info = store.update_run_info(run_id, None, None, None)
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 99, "after")


@pytest.mark.parametrize(
    ("status", "end_time", "name"),
    [("DONE", None, None), (None, "soon", None), (None, None, "n" * 251)],
)
def test_update_run_info_refuses_bad_input(
    store: SqlStore, status: str | None, end_time: object, name: str | None
) -> None:
    run = store.create_run("0", "u", 1, [], "r")
    with pytest.raises(InvalidParameterValue):
        store.update_run_info(run.info.run_id, status, end_time, name)  # type: ignore[arg-type]
    assert store.get_run(run.info.run_id) == run


def test_update_deleted_run_is_refused(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.update_run_info(run_id, RunStatus.FINISHED, 5, None)


def test_delete_and_restore_run(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    store.delete_run(run_id)  # deleting again is harmless
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    with pytest.raises(ResourceDoesNotExist):
        store.delete_run("f" * 32)
    with pytest.raises(ResourceDoesNotExist):
        store.restore_run("f" * 32)


def test_set_tag_named_run_name_renames_the_run(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.set_tag(run_id, RunTag("mlflow.runName", "renamed"))
    assert store.get_run(run_id).info.run_name == "renamed"


def test_set_and_delete_tag(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    store.set_tag(run_id, RunTag("k", "1"))
    store.set_tag(run_id, RunTag("k", "2"))
    assert store.get_run(run_id).data.tags["k"] == "2"
    store.delete_tag(run_id, "k")
    assert "k" not in store.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist):
        store.delete_tag(run_id, "k")


def test_tags_refused_on_deleted_run(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [RunTag("k", "v")], "r").info.run_id
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.set_tag(run_id, RunTag("k", "w"))
    with pytest.raises(InvalidParameterValue):
        store.delete_tag(run_id, "k")
    assert store.get_run(run_id).data.tags["k"] == "v"


def test_create_run_answers_as_a_later_read_does(store: SqlStore) -> None:
    # The run comes back as written, not read back: it must match a read,
    # tag order included, as the server sends it on.
    exp_id = store.create_experiment("exp")
    tags = [RunTag(key, f"v-{key}") for key in ("b", "Z", "_x", "a.b", "A", "é")]
    run = store.create_run(exp_id, "", None, tags, None)
    read = store.get_run(run.info.run_id)
    assert run == read
    assert dumps(run_to_dict(run)) == dumps(run_to_dict(read))


def test_log_batch_with_params_stored_before(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", None, [], None).info.run_id
    store.log_batch(run_id, params=[Param("a", "1"), Param("b", "2")])
    # Some keys again with their values, some new: all accepted.
    store.log_batch(run_id, params=[Param("b", "2"), Param("c", "3")])
    assert store.get_run(run_id).data.params == {"a": "1", "b": "2", "c": "3"}
    with pytest.raises(InvalidParameterValue, match=r"'2'.*'9'"):
        store.log_batch(run_id, params=[Param("d", "4"), Param("b", "9")])
    assert store.get_run(run_id).data.params == {"a": "1", "b": "2", "c": "3"}


def test_create_run_under_a_bounded_lock_wait(tmp_path: Path) -> None:
    # Runs are created on a connection of their own: it must give up on a
    # held write lock as the store's other writes do, write nothing, and
    # wait as usual afterwards.
    database = tmp_path / "kiln.db"
    store = SqlStore(f"sqlite:///{database}", str(tmp_path / "artifacts"))
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with bounded_lock_wait(0), pytest.raises(WriteLockBusy):
            store.create_run("0", "u", 1, [RunTag("k", "v")], "held")
        release = threading.Timer(0.3, holder.execute, ("ROLLBACK",))
        release.start()
        created = store.create_run("0", "u", 2, [], "waited")
        release.join()
        names = [run.info.run_name for run in store.search_runs(["0"])]
        assert names == ["waited"]
        assert store.get_run(created.info.run_id) == created
    finally:
        holder.close()
        store.close()
