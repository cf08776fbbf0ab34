"""The registry's history in the SQL store: what is recorded, how it reads
back, and rolling an alias back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kiln.entities import RegistryHistoryEntry
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.schema import registry_history
from kiln.store.sql.store import SqlStore


def _model(store: SqlStore, name: str = "m", versions: int = 3) -> None:
    store.create_registered_model(name, user_id="ada")
    run = store.create_run("0", "u", 1, [], None)
    for _ in range(versions):
        store.create_model_version(
            name, f"runs:/{run.info.run_id}/model", run.info.run_id, user_id="ada"
        )


def _moves(entries: list[RegistryHistoryEntry]) -> list[tuple[object, ...]]:
    return [(e.alias, e.previous_version, e.version) for e in entries]


def _stages(entries: list[RegistryHistoryEntry]) -> list[tuple[object, ...]]:
    return [(e.version, e.previous_stage, e.stage) for e in entries]


def _history_rows(store: SqlStore) -> int:
    with store._read() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(registry_history)
            ).scalar_one()
        )


def test_creating_models_and_versions_records_the_user(store: SqlStore) -> None:
    _model(store, versions=1)
    assert store.get_registered_model("m").user_id == "ada"
    assert store.get_model_version("m", "1").user_id == "ada"
    store.create_registered_model("anonymous")
    assert store.get_registered_model("anonymous").user_id is None


def test_alias_set_move_and_delete_are_recorded_newest_first(
    store: SqlStore,
) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1", user_id="ada")
    store.set_registered_model_alias(
        "m", "champion", "2", reason="Better AUC", user_id="bob"
    )
    store.delete_registered_model_alias("m", "champion", user_id="cy")

    history = store.get_registry_history("m")

    assert _moves(history) == [
        ("champion", "2", None),
        ("champion", "1", "2"),
        ("champion", None, "1"),
    ]
    assert [e.kind for e in history] == ["alias"] * 3
    assert [e.user_id for e in history] == ["cy", "bob", "ada"]
    assert [e.reason for e in history] == [None, "Better AUC", None]
    assert all(e.name == "m" and e.stage is None for e in history)
    assert history[0].id > history[1].id > history[2].id
    assert history[0].timestamp >= history[2].timestamp > 0
    assert history.token is None


def test_a_move_that_changes_nothing_is_not_recorded(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "champion", "1", reason="again")
    store.delete_registered_model_alias("m", "never-set")
    assert _moves(store.get_registry_history("m")) == [("champion", None, "1")]


def test_a_refused_move_leaves_no_history(store: SqlStore) -> None:
    _model(store)
    with pytest.raises(ResourceDoesNotExist):
        store.set_registered_model_alias("m", "champion", "9", reason="typo")
    with pytest.raises(InvalidParameterValue):
        store.set_registered_model_alias("m", "latest", "1")
    assert store.get_registry_history("m") == []


def test_stage_changes_are_recorded_with_the_archived_versions_first(
    store: SqlStore,
) -> None:
    _model(store)
    store.transition_model_version_stage("m", "1", "Production", user_id="ada")
    store.transition_model_version_stage("m", "2", "production")
    store.transition_model_version_stage(
        "m", "3", "Production", True, reason="Ship 3", user_id="bob"
    )

    history = store.get_registry_history("m", kind="stage")

    assert _stages(history) == [
        ("3", "None", "Production"),
        ("2", "Production", "Archived"),
        ("1", "Production", "Archived"),
        ("2", "None", "Production"),
        ("1", "None", "Production"),
    ]
    assert [e.reason for e in history[:3]] == ["Ship 3"] * 3
    assert [e.user_id for e in history[:3]] == ["bob"] * 3
    assert history[0].timestamp == history[1].timestamp == history[2].timestamp
    assert all(e.kind == "stage" and e.alias is None for e in history)


def test_a_transition_to_the_same_stage_is_not_recorded(store: SqlStore) -> None:
    _model(store, versions=1)
    store.transition_model_version_stage("m", "1", "Staging")
    store.transition_model_version_stage("m", "1", "staging")
    assert _stages(store.get_registry_history("m")) == [("1", "None", "Staging")]


def test_history_keeps_one_alias_or_the_stages(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "challenger", "2")
    store.transition_model_version_stage("m", "1", "Staging")

    assert _moves(store.get_registry_history("m", alias="challenger")) == [
        ("challenger", None, "2")
    ]
    assert _moves(store.get_registry_history("m", "champion", "alias")) == [
        ("champion", None, "1")
    ]
    assert [e.kind for e in store.get_registry_history("m", kind="alias")] == [
        "alias",
        "alias",
    ]
    assert _stages(store.get_registry_history("m", kind="stage")) == [
        ("1", "None", "Staging")
    ]
    assert len(store.get_registry_history("m")) == 3


@pytest.mark.parametrize(
    ("alias", "kind"), [(None, "tag"), ("champion", "stage"), ("v1", None)]
)
def test_history_refuses_bad_filters(
    store: SqlStore, alias: str | None, kind: str | None
) -> None:
    _model(store, versions=1)
    with pytest.raises(InvalidParameterValue):
        store.get_registry_history("m", alias=alias, kind=kind)


def test_history_of_an_unknown_model_is_404(store: SqlStore) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.get_registry_history("nope")


def test_history_pages_do_not_shift_when_moves_are_recorded_between_them(
    store: SqlStore,
) -> None:
    _model(store)
    for version in ("1", "2", "3"):
        store.set_registered_model_alias("m", "champion", version)

    first = store.get_registry_history("m", max_results=2)
    store.set_registered_model_alias("m", "champion", "1")
    second = store.get_registry_history("m", max_results=2, page_token=first.token)

    assert _moves(first) == [("champion", "2", "3"), ("champion", "1", "2")]
    assert first.token is not None
    assert _moves(second) == [("champion", None, "1")]
    assert second.token is None
    with pytest.raises(InvalidParameterValue):
        store.get_registry_history("m", max_results=1001)
    with pytest.raises(InvalidParameterValue):
        store.get_registry_history("m", page_token="not a token")


def test_rollback_after_two_moves_returns_to_the_previous_version(
    store: SqlStore,
) -> None:
    _model(store)
    for version in ("1", "2", "3"):
        store.set_registered_model_alias("m", "champion", version)

    back = store.rollback_alias("m", "champion", reason="Drift", user_id="ada")

    assert back.version == "2" and back.aliases == ("champion",)
    assert store.get_model_version_by_alias("m", "champion").version == "2"
    newest = store.get_registry_history("m", alias="champion")[0]
    assert (newest.previous_version, newest.version) == ("3", "2")
    assert (newest.reason, newest.user_id) == ("Drift", "ada")
    # Rolling back again undoes the roll back.
    assert store.rollback_alias("m", "champion").version == "3"


def test_rollback_with_nothing_before_is_refused(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    with pytest.raises(InvalidParameterValue, match="no earlier version"):
        store.rollback_alias("m", "champion")
    with pytest.raises(InvalidParameterValue, match="no earlier version"):
        store.rollback_alias("m", "never-set")
    with pytest.raises(ResourceDoesNotExist):
        store.rollback_alias("nope", "champion")
    assert store.get_model_version_by_alias("m", "champion").version == "1"
    assert len(store.get_registry_history("m")) == 1


def test_rollback_passes_over_deleted_versions(store: SqlStore) -> None:
    _model(store)
    for version in ("1", "2", "3"):
        store.set_registered_model_alias("m", "champion", version)
    store.delete_model_version("m", "2")
    assert store.rollback_alias("m", "champion").version == "1"


def test_rollback_restores_an_alias_removed_with_its_version(
    store: SqlStore,
) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "champion", "2")
    store.delete_model_version("m", "2", user_id="ada")

    removal = store.get_registry_history("m")[0]
    assert (removal.alias, removal.previous_version, removal.version) == (
        "champion",
        "2",
        None,
    )
    assert removal.user_id == "ada"
    assert store.rollback_alias("m", "champion").version == "1"


def test_rollback_restores_a_deleted_alias(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "2")
    store.delete_registered_model_alias("m", "champion")
    assert store.rollback_alias("m", "champion").version == "2"


def test_history_follows_a_renamed_model(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.transition_model_version_stage("m", "1", "Staging")
    store.rename_registered_model("m", "renamed")

    history = store.get_registry_history("renamed")
    assert len(history) == 2 and {e.name for e in history} == {"renamed"}
    with pytest.raises(ResourceDoesNotExist):
        store.get_registry_history("m")
    store.set_registered_model_alias("renamed", "champion", "2")
    assert store.rollback_alias("renamed", "champion").version == "1"


def test_deleting_the_model_removes_its_history(store: SqlStore) -> None:
    _model(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.transition_model_version_stage("m", "1", "Staging")
    _model(store, "other", versions=1)
    store.set_registered_model_alias("other", "champion", "1")

    store.delete_registered_model("m")

    assert _history_rows(store) == 1
    _model(store, versions=1)
    assert store.get_registry_history("m") == []


def test_over_long_reasons_and_users_are_refused(store: SqlStore) -> None:
    _model(store, versions=1)
    with pytest.raises(InvalidParameterValue, match="reason"):
        store.set_registered_model_alias("m", "a", "1", reason="x" * 5001)
    with pytest.raises(InvalidParameterValue, match="user id"):
        store.transition_model_version_stage("m", "1", "Staging", user_id="u" * 257)
    assert store.get_registry_history("m") == []
