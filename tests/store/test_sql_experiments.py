from __future__ import annotations

import pytest

from kiln.entities import LifecycleStage, RunTag
from kiln.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.sql.store import SqlStore


def _names(store: SqlStore) -> set[str]:
    from kiln.entities import ViewType

    return {e.name for e in store.search_experiments(view_type=ViewType.ALL)}


def test_default_experiment_exists_after_first_use(store: SqlStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert default.artifact_location.endswith("/artifacts/0")


def test_create_experiment_defaults_artifact_location_to_root_and_id(
    store: SqlStore, artifact_root: str
) -> None:
    exp_id = store.create_experiment("exp", tags=[RunTag("team", "vision")])
    exp = store.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp_id != "0"
    assert exp.name == "exp"
    assert exp.artifact_location == f"{artifact_root}/{exp_id}"
    assert exp.tags == {"team": "vision"}
    assert exp.creation_time is not None
    assert exp.creation_time == exp.last_update_time


def test_create_experiment_keeps_explicit_artifact_location(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp", artifact_location="s3://bucket/path")
    assert store.get_experiment(exp_id).artifact_location == "s3://bucket/path"


def test_experiment_ids_follow_default_experiment(store: SqlStore) -> None:
    first = store.create_experiment("a")
    second = store.create_experiment("b")
    assert (int(first), int(second)) == (1, 2)


def test_duplicate_name_is_refused_even_when_deleted(store: SqlStore) -> None:
    exp_id = store.create_experiment("taken")
    with pytest.raises(ResourceAlreadyExists, match="'taken'"):
        store.create_experiment("taken")
    store.delete_experiment(exp_id)
    with pytest.raises(ResourceAlreadyExists):
        store.create_experiment("taken")
    assert _names(store) == {"Default", "taken"}


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("", {}),
        ("   ", {}),
        ("x" * 501, {}),
        ("ok", {"artifact_location": ""}),
        ("ok", {"tags": [RunTag("bad key!", "v")]}),
        ("ok", {"tags": [RunTag("k", "v" * 20_001)]}),
    ],
)
def test_create_experiment_refuses_bad_input_and_stores_nothing(
    store: SqlStore, name: str, kwargs: dict[str, object]
) -> None:
    with pytest.raises(InvalidParameterValue):
        store.create_experiment(name, **kwargs)  # type: ignore[arg-type]
    assert _names(store) == {"Default"}


def test_get_experiment_by_name(store: SqlStore) -> None:
    exp_id = store.create_experiment("named")
    found = store.get_experiment_by_name("named")
    assert found is not None and found.experiment_id == exp_id
    assert store.get_experiment_by_name("missing") is None


def test_get_experiment_returns_deleted_ones(store: SqlStore) -> None:
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED
    found = store.get_experiment_by_name("gone")
    assert found is not None and found.lifecycle_stage == LifecycleStage.DELETED


@pytest.mark.parametrize(
    ("experiment_id", "error"),
    [
        ("12345", ResourceDoesNotExist),
        ("abc", InvalidParameterValue),
        ("-1", InvalidParameterValue),
    ],
)
def test_get_experiment_errors(
    store: SqlStore, experiment_id: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        store.get_experiment(experiment_id)


def test_rename_experiment(store: SqlStore) -> None:
    exp_id = store.create_experiment("old")
    store.rename_experiment(exp_id, "new")
    assert store.get_experiment(exp_id).name == "new"
    assert store.get_experiment_by_name("old") is None
    store.rename_experiment(exp_id, "new")  # renaming to its own name is fine


def test_rename_to_a_taken_name_is_refused(store: SqlStore) -> None:
    exp_id = store.create_experiment("a")
    store.create_experiment("b")
    with pytest.raises(ResourceAlreadyExists):
        store.rename_experiment(exp_id, "b")
    assert store.get_experiment(exp_id).name == "a"


def test_rename_deleted_experiment_is_invalid_state(store: SqlStore) -> None:
    exp_id = store.create_experiment("a")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidState):
        store.rename_experiment(exp_id, "b")
    assert store.get_experiment(exp_id).name == "a"


def test_rename_refuses_bad_name_and_unknown_id(store: SqlStore) -> None:
    exp_id = store.create_experiment("a")
    with pytest.raises(InvalidParameterValue):
        store.rename_experiment(exp_id, "")
    with pytest.raises(ResourceDoesNotExist):
        store.rename_experiment("999", "b")
    assert store.get_experiment(exp_id).name == "a"


def test_delete_soft_deletes_runs_and_restore_brings_them_back(
    store: SqlStore,
) -> None:
    exp_id = store.create_experiment("exp")
    kept = store.create_run(exp_id, "u", 1, [], "kept").info.run_id
    earlier = store.create_run(exp_id, "u", 2, [], "earlier").info.run_id
    store.delete_run(earlier)

    store.delete_experiment(exp_id)
    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.DELETED

    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.ACTIVE
    # A run deleted on its own before the experiment stays deleted.
    assert store.get_run(earlier).info.lifecycle_stage == LifecycleStage.DELETED


def test_restore_keeps_a_run_deleted_in_the_same_millisecond(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiln.store.sql.experiments as experiments_module
    import kiln.store.sql.runs as runs_module

    exp_id = store.create_experiment("exp")
    kept = store.create_run(exp_id, "u", 1, [], "kept").info.run_id
    alone = store.create_run(exp_id, "u", 2, [], "alone").info.run_id
    # Both deletions read the same clock.
    monkeypatch.setattr(experiments_module, "now_ms", lambda: 5_000)
    monkeypatch.setattr(runs_module, "now_ms", lambda: 5_000)
    store.delete_run(alone)
    store.delete_experiment(exp_id)

    store.restore_experiment(exp_id)

    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(alone).info.lifecycle_stage == LifecycleStage.DELETED


def test_delete_twice_and_restore_active_are_not_found(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp")
    with pytest.raises(ResourceDoesNotExist):
        store.restore_experiment(exp_id)
    store.delete_experiment(exp_id)
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment(exp_id)
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment("424242")


def test_experiment_tags_set_overwrite_and_delete(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp")
    store.set_experiment_tag(exp_id, RunTag("k", "1"))
    store.set_experiment_tag(exp_id, RunTag("k", "2"))
    store.set_experiment_tag(exp_id, RunTag("other", "x"))
    assert store.get_experiment(exp_id).tags == {"k": "2", "other": "x"}
    store.delete_experiment_tag(exp_id, "k")
    assert store.get_experiment(exp_id).tags == {"other": "x"}
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment_tag(exp_id, "k")


def test_experiment_tags_refused_on_deleted_or_bad_input(store: SqlStore) -> None:
    exp_id = store.create_experiment("exp")
    with pytest.raises(InvalidParameterValue):
        store.set_experiment_tag(exp_id, RunTag("../x", "v"))
    with pytest.raises(ResourceDoesNotExist):
        store.set_experiment_tag("999", RunTag("k", "v"))
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.set_experiment_tag(exp_id, RunTag("k", "v"))
    assert store.get_experiment(exp_id).tags == {}
