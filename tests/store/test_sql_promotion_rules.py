"""Promotion rules in the SQL store: storing them, and holding every alias
move to them, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import time

import pytest

from kiln.entities import Metric, Param, RunTag
from kiln.errors import InvalidFilter, InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.store import SqlStore

RULE = (
    "metrics.val_auc >= 0.9 AND tags.validated = 'true' "
    "AND metrics.val_auc >= current.metrics.val_auc"
)


def _run(
    store: SqlStore,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> str:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    _log(store, run_id, metrics, tags, params)
    return run_id


def _log(
    store: SqlStore,
    run_id: str,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> None:
    now = int(time.time() * 1000)
    store.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )


def _version(store: SqlStore, run_id: str, name: str = "m") -> str:
    source = f"runs:/{run_id}/model"
    return store.create_model_version(name, source, run_id).version


def _holder(store: SqlStore, alias: str = "champion") -> str | None:
    aliases = {a.alias: a.version for a in store.get_registered_model("m").aliases}
    return aliases.get(alias)


# -- storage --------------------------------------------------------------------
def test_set_get_list_replace_and_delete(store: SqlStore) -> None:
    store.create_registered_model("m")
    first = store.set_promotion_rule("m", "champion", "metrics.a > 1", user_id="ann")
    assert (first.name, first.alias, first.rule) == ("m", "champion", "metrics.a > 1")
    assert first.user_id == "ann"
    assert first.creation_timestamp == first.last_updated_timestamp > 0
    assert store.get_promotion_rule("m", "champion") == first

    time.sleep(0.002)
    replaced = store.set_promotion_rule("m", "champion", "tags.ok IS NOT NULL")
    assert replaced.rule == "tags.ok IS NOT NULL" and replaced.user_id is None
    assert replaced.creation_timestamp == first.creation_timestamp
    assert replaced.last_updated_timestamp > first.last_updated_timestamp

    store.set_promotion_rule("m", "challenger", "metrics.a > 0")
    listed = store.list_promotion_rules("m")
    assert [(r.alias, r.rule) for r in listed] == [
        ("challenger", "metrics.a > 0"),
        ("champion", "tags.ok IS NOT NULL"),
    ]

    store.delete_promotion_rule("m", "champion")
    store.delete_promotion_rule("m", "champion")
    with pytest.raises(ResourceDoesNotExist, match="'champion' of registered model"):
        store.get_promotion_rule("m", "champion")
    assert [r.alias for r in store.list_promotion_rules("m")] == ["challenger"]


def test_rules_of_unknown_models_are_404(store: SqlStore) -> None:
    with pytest.raises(ResourceDoesNotExist, match="'nope'"):
        store.set_promotion_rule("nope", "champion", "metrics.a > 1")
    with pytest.raises(ResourceDoesNotExist):
        store.get_promotion_rule("nope", "champion")
    with pytest.raises(ResourceDoesNotExist):
        store.list_promotion_rules("nope")
    with pytest.raises(ResourceDoesNotExist):
        store.delete_promotion_rule("nope", "champion")


@pytest.mark.parametrize("alias", ["latest", "v2", "a b", "", "x/y"])
def test_rules_take_only_valid_aliases(store: SqlStore, alias: str) -> None:
    store.create_registered_model("m")
    with pytest.raises(InvalidParameterValue):
        store.set_promotion_rule("m", alias, "metrics.a > 1")


@pytest.mark.parametrize(
    ("rule", "position"),
    [
        ("metrics.a >> 1", 11),
        ("current.metrics.a > 1", 0),
        ("metrics.a > current.tags.a", 12),
        ("params.p = 1", 11),
    ],
)
def test_rules_that_do_not_parse_are_refused(
    store: SqlStore, rule: str, position: int
) -> None:
    store.create_registered_model("m")
    with pytest.raises(InvalidFilter, match=f"position {position}"):
        store.set_promotion_rule("m", "champion", rule)
    assert store.list_promotion_rules("m") == []


def test_rules_follow_a_renamed_model_and_go_with_a_deleted_one(
    store: SqlStore,
) -> None:
    store.create_registered_model("m")
    store.set_promotion_rule("m", "champion", "metrics.a > 1")
    store.rename_registered_model("m", "n")
    assert store.get_promotion_rule("n", "champion").name == "n"

    store.delete_registered_model("n")
    store.create_registered_model("n")
    assert store.list_promotion_rules("n") == []


# -- enforcement ----------------------------------------------------------------
def test_a_failing_move_names_each_condition_and_changes_nothing(
    store: SqlStore,
) -> None:
    store.create_registered_model("m")
    good = _run(store, {"val_auc": 0.92}, {"validated": "true"})
    bad = _run(store, {"val_auc": 0.85})
    _version(store, good)
    _version(store, bad)
    store.set_promotion_rule("m", "champion", RULE)
    store.set_registered_model_alias("m", "champion", "1")
    history = len(store.get_registry_history("m"))

    with pytest.raises(InvalidParameterValue) as caught:
        store.set_registered_model_alias("m", "champion", "2")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert caught.value.message == (
        "Alias 'champion' of registered model 'm' cannot point at version 2: its "
        f"promotion rule does not hold: metrics.val_auc >= 0.9 failed: run {bad} "
        "has val_auc = 0.85; tags.validated = 'true' failed: run "
        f"{bad} has no tag validated; metrics.val_auc >= current.metrics.val_auc "
        f"failed: run {bad} has val_auc = 0.85, and the current holder, version 1 "
        f"(run {good}), has val_auc = 0.92."
    )
    assert _holder(store) == "1"
    assert len(store.get_registry_history("m")) == history


def test_a_move_succeeds_once_the_run_meets_the_rule(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id = _run(store, {"val_auc": 0.85})
    _version(store, run_id)
    store.set_promotion_rule("m", "champion", RULE)
    with pytest.raises(InvalidParameterValue, match="has no tag validated"):
        store.set_registered_model_alias("m", "champion", "1")
    assert _holder(store) is None

    _log(store, run_id, {"val_auc": 0.95}, {"validated": "true"})
    store.set_registered_model_alias("m", "champion", "1")
    assert _holder(store) == "1"


def test_current_conditions_compare_with_the_holder(store: SqlStore) -> None:
    store.create_registered_model("m")
    rule = "metrics.auc > current.metrics.auc AND params.data = current.params.data"
    for auc in (0.8, 0.7, 0.9):
        _version(store, _run(store, {"auc": auc}, params={"data": "v1"}))
    _version(store, _run(store, {"auc": 0.99}, params={"data": "v2"}))
    store.set_promotion_rule("m", "champion", rule)

    # No holder yet: the current. conditions pass.
    store.set_registered_model_alias("m", "champion", "1")
    with pytest.raises(InvalidParameterValue, match=r"has auc = 0\.7, and the current"):
        store.set_registered_model_alias("m", "champion", "2")
    store.set_registered_model_alias("m", "champion", "3")
    with pytest.raises(InvalidParameterValue, match="has param data = 'v2', and"):
        store.set_registered_model_alias("m", "champion", "4")
    assert _holder(store) == "3"


def test_only_the_guarded_alias_is_held_and_removal_is_free(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store, _run(store, {"auc": 0.1}))
    store.set_promotion_rule("m", "champion", "metrics.auc > 0.5")
    store.set_registered_model_alias("m", "challenger", "1")
    with pytest.raises(InvalidParameterValue, match=r"metrics\.auc > 0\.5 failed"):
        store.set_registered_model_alias("m", "champion", "1")

    store.delete_promotion_rule("m", "champion")
    store.set_registered_model_alias("m", "champion", "1")
    store.set_promotion_rule("m", "champion", "metrics.auc > 0.5")
    store.delete_registered_model_alias("m", "champion")
    assert _holder(store) is None
    # Setting an alias to the version it already points at moves nothing.
    store.set_promotion_rule("m", "challenger", "metrics.auc > 0.5")
    store.set_registered_model_alias("m", "challenger", "1")


def test_rollback_is_held_to_the_rule(store: SqlStore) -> None:
    store.create_registered_model("m")
    first = _run(store, {"auc": 0.8})
    _version(store, first)
    _version(store, _run(store, {"auc": 0.9}))
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "champion", "2")
    store.set_promotion_rule("m", "champion", "metrics.auc >= 0.85")

    with pytest.raises(InvalidParameterValue, match=r"has auc = 0\.8\.$"):
        store.rollback_alias("m", "champion")
    assert _holder(store) == "2"
    _log(store, first, {"auc": 0.86})
    assert store.rollback_alias("m", "champion").version == "1"


def test_a_version_without_a_source_run_fails_any_rule(store: SqlStore) -> None:
    store.create_registered_model("m")
    model = store.create_logged_model("0", name="model")
    store.create_model_version(
        "m", f"models:/{model.model_id}", model_id=model.model_id
    )
    store.set_promotion_rule("m", "champion", "tags.x IS NULL")
    with pytest.raises(InvalidParameterValue, match="the version has no source run"):
        store.set_registered_model_alias("m", "champion", "1")
    assert _holder(store) is None


def test_a_logged_model_version_is_checked_against_its_source_run(
    store: SqlStore,
) -> None:
    store.create_registered_model("m")
    run_id = _run(store, {"auc": 0.4})
    model = store.create_logged_model("0", name="model", source_run_id=run_id)
    store.create_model_version(
        "m", f"models:/{model.model_id}", model_id=model.model_id
    )
    store.set_promotion_rule("m", "champion", "metrics.auc > 0.5")
    with pytest.raises(InvalidParameterValue, match=rf"run {run_id} has auc = 0\.4"):
        store.set_registered_model_alias("m", "champion", "1")
    _log(store, run_id, {"auc": 0.6})
    store.set_registered_model_alias("m", "champion", "1")


def test_a_holder_without_a_source_run_fails_current_conditions(
    store: SqlStore,
) -> None:
    store.create_registered_model("m")
    model = store.create_logged_model("0", name="model")
    store.create_model_version(
        "m", f"models:/{model.model_id}", model_id=model.model_id
    )
    _version(store, _run(store, {"auc": 0.9}))
    store.set_registered_model_alias("m", "champion", "1")
    store.set_promotion_rule("m", "champion", "metrics.auc >= current.metrics.auc")
    with pytest.raises(InvalidParameterValue, match="version 1, has no source run"):
        store.set_registered_model_alias("m", "champion", "2")
    # Removing the alias first lets the rule pass without a holder.
    store.delete_registered_model_alias("m", "champion")
    store.set_registered_model_alias("m", "champion", "2")


def test_latest_metric_values_and_nan_are_what_the_rule_sees(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id = _run(store)
    store.log_metric(run_id, Metric("auc", 0.95, 1, 0))
    store.log_metric(run_id, Metric("auc", 0.5, 2, 1))
    _version(store, run_id)
    store.set_promotion_rule("m", "champion", "metrics.auc > 0.9")
    with pytest.raises(InvalidParameterValue, match=r"has auc = 0\.5"):
        store.set_registered_model_alias("m", "champion", "1")

    store.log_metric(run_id, Metric("auc", math.nan, 3, 2))
    store.set_promotion_rule("m", "champion", "metrics.auc != 0.5")
    store.set_registered_model_alias("m", "champion", "1")
    store.delete_registered_model_alias("m", "champion")
    store.set_promotion_rule("m", "champion", "metrics.auc > 0.9")
    with pytest.raises(InvalidParameterValue, match="has auc = NaN"):
        store.set_registered_model_alias("m", "champion", "1")


def test_attributes_of_the_source_run_can_be_required(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id = _run(store)
    _version(store, run_id)
    store.set_promotion_rule("m", "champion", "status = 'FINISHED'")
    with pytest.raises(InvalidParameterValue, match="has status = 'RUNNING'"):
        store.set_registered_model_alias("m", "champion", "1")
    store.update_run_info(run_id, "FINISHED", 5, None)
    store.set_registered_model_alias("m", "champion", "1")
