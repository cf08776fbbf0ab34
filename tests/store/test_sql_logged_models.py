from __future__ import annotations

import math
import re

import pytest

from kiln.entities import (
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)
from kiln.errors import InvalidFilter, InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.store import SqlStore


def _model(store: SqlStore, name: str = "model", **kwargs: object) -> str:
    return store.create_logged_model("0", name, **kwargs).model_id  # type: ignore[arg-type]


def test_create_logged_model_is_pending_under_the_experiment_location(
    store: SqlStore,
) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    model = store.create_logged_model(
        "0",
        "model",
        source_run_id=run_id,
        tags=[LoggedModelTag("team", "a")],
        params=[LoggedModelParam("lr", "0.1")],
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    location = store.get_experiment("0").artifact_location
    assert model.artifact_location == f"{location}/models/{model.model_id}/artifacts"
    assert model.status == LoggedModelStatus.PENDING
    assert model.creation_timestamp == model.last_updated_timestamp > 0
    assert (model.source_run_id, model.model_type) == (run_id, "sklearn")
    assert model.tags == {"team": "a"}
    assert model.params == {"lr": "0.1"}
    assert store.get_logged_model(model.model_id) == model


def test_create_logged_model_without_name_picks_one(store: SqlStore) -> None:
    assert store.create_logged_model("0").name


@pytest.mark.parametrize("name", ["", "a/b", "a.b", "a:b", "50%", "it's"])
def test_create_logged_model_refuses_bad_names(store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidParameterValue, match="logged model name"):
        store.create_logged_model("0", name)


def test_create_logged_model_needs_an_active_experiment(store: SqlStore) -> None:
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.create_logged_model(exp_id, "m")
    with pytest.raises(ResourceDoesNotExist):
        store.create_logged_model("12345", "m")


def test_get_unknown_logged_model_is_not_found(store: SqlStore) -> None:
    with pytest.raises(ResourceDoesNotExist, match="m-nope"):
        store.get_logged_model("m-nope")


def test_finalize_sets_status_and_update_time(store: SqlStore) -> None:
    model_id = _model(store)
    model = store.finalize_logged_model(model_id, LoggedModelStatus.READY)
    assert model.status == LoggedModelStatus.READY
    assert store.get_logged_model(model_id).status == LoggedModelStatus.READY
    with pytest.raises(InvalidParameterValue, match="DONE"):
        store.finalize_logged_model(model_id, "DONE")


def test_deleted_model_is_hidden_unless_allowed(store: SqlStore) -> None:
    model_id = _model(store)
    store.delete_logged_model(model_id)
    with pytest.raises(ResourceDoesNotExist):
        store.get_logged_model(model_id)
    assert store.get_logged_model(model_id, allow_deleted=True).model_id == model_id
    assert list(store.search_logged_models(["0"])) == []


def test_tags_are_set_overwritten_and_deleted(store: SqlStore) -> None:
    model_id = _model(store, tags=[LoggedModelTag("a", "1")])
    store.set_logged_model_tags(
        model_id, [LoggedModelTag("a", "2"), LoggedModelTag("b", "x")]
    )
    assert store.get_logged_model(model_id).tags == {"a": "2", "b": "x"}
    store.delete_logged_model_tag(model_id, "a")
    assert store.get_logged_model(model_id).tags == {"b": "x"}
    with pytest.raises(ResourceDoesNotExist, match="'a'"):
        store.delete_logged_model_tag(model_id, "a")
    with pytest.raises(ResourceDoesNotExist):
        store.set_logged_model_tags("m-unknown", [LoggedModelTag("a", "1")])


def test_params_may_repeat_a_value_but_not_change_it(store: SqlStore) -> None:
    model_id = _model(store, params=[LoggedModelParam("lr", "0.1")])
    store.log_logged_model_params(
        model_id, [LoggedModelParam("lr", "0.1"), LoggedModelParam("depth", "3")]
    )
    assert store.get_logged_model(model_id).params == {"depth": "3", "lr": "0.1"}
    with pytest.raises(InvalidParameterValue, match="Changing param values"):
        store.log_logged_model_params(model_id, [LoggedModelParam("lr", "0.2")])


def test_metrics_logged_with_a_model_id_belong_to_the_model(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    model_id = _model(store, source_run_id=run_id)
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.9, 10, 1, model_id=model_id, dataset_name="iris"),
            Metric("loss", math.nan, 10, 1, model_id=model_id),
            Metric("other", 1.0, 10, 1),
        ],
    )
    points = store.get_logged_model(model_id).metrics
    assert [(p.key, p.run_id, p.dataset_name) for p in points] == [
        ("acc", run_id, "iris"),
        ("loss", run_id, None),
    ]
    assert points[0].value == 0.9 and math.isnan(points[1].value)


def _search_names(
    store: SqlStore, filter_string: str | None = None, **kw: object
) -> list[str]:
    page = store.search_logged_models(["0"], filter_string, **kw)  # type: ignore[arg-type]
    return [model.name for model in page]


@pytest.fixture
def three_models(store: SqlStore) -> dict[str, str]:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    ids = {}
    for number, name in enumerate(["alpha", "beta", "gamma"]):
        model_id = _model(
            store,
            name,
            source_run_id=run_id,
            tags=[LoggedModelTag("team", "ab" if number < 2 else "c")],
            params=[LoggedModelParam("depth", str(number))],
            model_type="sklearn" if number else "torch",
        )
        ids[name] = model_id
        store.log_batch(
            run_id,
            metrics=[
                Metric("acc", 0.5 + number / 10, 100 + number, 0, model_id=model_id),
                Metric(
                    "acc",
                    0.1 * number,
                    200,
                    1,
                    model_id=model_id,
                    dataset_name="eval",
                ),
            ],
        )
    store.finalize_logged_model(ids["beta"], LoggedModelStatus.READY)
    return ids


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["gamma", "beta", "alpha"]),
        ("name = 'beta'", ["beta"]),
        ("name IN ('alpha', 'gamma')", ["gamma", "alpha"]),
        ("name LIKE '%a'", ["gamma", "beta", "alpha"]),
        ("model_type != 'torch'", ["gamma", "beta"]),
        ("status = 'LOGGED_MODEL_READY'", ["beta"]),
        ("status = 'PENDING'", ["gamma", "alpha"]),
        ("tags.team = 'ab'", ["beta", "alpha"]),
        ("params.depth = '2'", ["gamma"]),
        ("metrics.acc >= 0.65", ["gamma"]),
        ("metrics.acc > 0.55 AND tags.team = 'ab'", ["beta"]),
        ("creation_timestamp > 0", ["gamma", "beta", "alpha"]),
    ],
)
def test_search_logged_models_filters(
    store: SqlStore,
    three_models: dict[str, str],
    filter_string: str | None,
    expected: list[str],
) -> None:
    assert _search_names(store, filter_string) == expected


def test_search_datasets_narrow_metric_comparisons(
    store: SqlStore, three_models: dict[str, str]
) -> None:
    on_eval = [LoggedModelDataset("eval")]
    assert _search_names(store, "metrics.acc >= 0.15", datasets=on_eval) == ["gamma"]
    assert _search_names(store, datasets=[LoggedModelDataset("train")]) == []
    assert _search_names(store, datasets=on_eval) == ["gamma", "beta", "alpha"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([LoggedModelOrderBy("name")], ["alpha", "beta", "gamma"]),
        ([LoggedModelOrderBy("name", ascending=False)], ["gamma", "beta", "alpha"]),
        ([LoggedModelOrderBy("creation_timestamp")], ["alpha", "beta", "gamma"]),
        # The latest point of acc (timestamp 200) is the one on "eval".
        (
            [LoggedModelOrderBy("metrics.acc", ascending=False)],
            ["gamma", "beta", "alpha"],
        ),
        ([LoggedModelOrderBy("metrics.acc", dataset_name="none")], None),
    ],
)
def test_search_logged_models_orders(
    store: SqlStore,
    three_models: dict[str, str],
    order_by: list[LoggedModelOrderBy],
    expected: list[str] | None,
) -> None:
    names = _search_names(store, order_by=order_by)
    if expected is None:
        # No model has the metric on that dataset: the default order decides.
        expected = ["gamma", "beta", "alpha"]
    assert names == expected


def test_search_logged_models_pages(
    store: SqlStore, three_models: dict[str, str]
) -> None:
    first = store.search_logged_models(["0"], max_results=2)
    assert [m.name for m in first] == ["gamma", "beta"]
    assert first.token
    second = store.search_logged_models(["0"], max_results=2, page_token=first.token)
    assert [m.name for m in second] == ["alpha"]
    assert second.token is None


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        ("params.depth > 1", ()),
        ("run_id = 'x'", ()),
        ("datasets.name = 'x'", ()),
        (None, (LoggedModelOrderBy("params.depth"),)),
        (None, (LoggedModelOrderBy("size"),)),
        (None, (LoggedModelOrderBy("name", dataset_name="eval"),)),
    ],
)
def test_search_logged_models_refuses_bad_clauses(
    store: SqlStore, filter_string: str | None, order_by: tuple[LoggedModelOrderBy, ...]
) -> None:
    with pytest.raises(InvalidFilter):
        store.search_logged_models(["0"], filter_string, order_by=order_by)


def test_search_logged_models_is_per_experiment(store: SqlStore) -> None:
    other = store.create_experiment("other")
    store.create_logged_model(other, "elsewhere")
    _model(store, "here")
    assert [m.name for m in store.search_logged_models([other])] == ["elsewhere"]
    assert [m.name for m in store.search_logged_models(["0"])] == ["here"]


def test_a_run_point_logged_again_with_a_model_id_joins_the_model(
    store: SqlStore,
) -> None:
    # MLflow's client logs a model by re-sending the run's points at the
    # model's step with the model's id.
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    model_id = _model(store, source_run_id=run_id)
    store.log_metric(run_id, Metric("acc", 0.9, 10, 0))
    store.log_metric(run_id, Metric("acc", 0.9, 10, 0, model_id=model_id))
    store.log_batch(run_id, metrics=[Metric("acc", 0.9, 10, 0, model_id=model_id)])

    assert store.get_logged_model(model_id).metrics == (
        Metric("acc", 0.9, 10, 0, run_id=run_id, model_id=model_id),
    )
    assert len(store.get_metric_history(run_id, "acc")) == 1


def test_model_metrics_are_refused_with_the_batch(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    model_id = _model(store, source_run_id=run_id)
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.log_metric(run_id, Metric("acc", 0.9, 10, 0, model_id=model_id))
    assert store.get_logged_model(model_id).metrics == ()
