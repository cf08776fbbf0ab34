"""The server's JSON path for run searches gives what the entity path gives.

The JSON path's runs hold their params and tags as JSON the database wrote,
so the two are compared once encoded.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from kiln.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from kiln.store.base import RunJsonSearch
from kiln.store.sql.store import SqlStore
from kiln.wire import dumps, run_to_dict

TRAIN = Dataset("iris", "abc123", "local", '{"uri": "/d.csv"}', '{"s": 1}', "{}")


def _decoded(runs: list[Any]) -> Any:
    return orjson.loads(dumps(runs))


def _seed(store: SqlStore) -> list[str]:
    """Runs with every kind of content, and one deleted run."""
    experiment_id = store.create_experiment("shapes")
    plain = store.create_run(experiment_id, "", None, [], None).info.run_id
    full = store.create_run(
        experiment_id, "ann", 5, [RunTag("z", "last"), RunTag("a", 'é\n"x"')], "r"
    ).info.run_id
    store.log_batch(
        full,
        metrics=[
            Metric("loss", 0.25, 10, 3),
            Metric("nan", math.nan, 10, 1),
            Metric("up", math.inf, 10, 0),
            Metric("down", -math.inf, 10, 0),
            Metric("whole", 2.0, 11, 7),
        ],
        params=[Param("lr", "0.1"), Param("empty", "")],
        tags=[RunTag("mid", "v")],
    )
    store.log_inputs(
        full,
        datasets=[DatasetInput(TRAIN, (InputTag("mlflow.data.context", "train"),))],
        models=[LoggedModelInput("m-1")],
    )
    store.log_outputs(full, [LoggedModelOutput("m-2", 4)])
    store.update_run_info(full, RunStatus.FINISHED, 99, None)
    gone = store.create_run(experiment_id, "u", 3, [], None).info.run_id
    store.log_batch(gone, metrics=[Metric("loss", 1.0, 1, 0)])
    store.delete_run(gone)
    only_outputs = store.create_run(experiment_id, "u", 4, [], None).info.run_id
    store.log_outputs(only_outputs, [LoggedModelOutput("m-3", 0)])
    return [experiment_id, plain, full, gone, only_outputs]


def test_sql_store_offers_the_json_search(store: SqlStore) -> None:
    assert isinstance(store, RunJsonSearch)


@pytest.mark.parametrize(
    ("filter_string", "order_by", "view"),
    [
        ("", None, ViewType.ALL),
        ("", None, ViewType.ACTIVE_ONLY),
        ("metrics.loss > 0", ["metrics.loss DESC"], ViewType.ALL),
        ("tags.z LIKE 'la%'", ["params.lr"], ViewType.ALL),
        ("attributes.status = 'FINISHED'", ["attributes.run_name"], ViewType.ALL),
    ],
)
def test_json_search_matches_entities(
    store: SqlStore,
    db_uri: str,
    filter_string: str,
    order_by: list[str] | None,
    view: ViewType,
) -> None:
    experiment_id, *_ = _seed(store)
    runs = store.search_runs([experiment_id], filter_string, view, 10, order_by)
    dicts = store.search_runs_json([experiment_id], filter_string, view, 10, order_by)
    expected = [run_to_dict(run) for run in runs]
    assert runs, "the case must find runs"
    assert _decoded(dicts) == _decoded(expected)
    if db_uri.startswith("sqlite"):
        # Equal bytes: the same fields in the same order, numbers and
        # strings written alike (PostgreSQL spaces its JSON differently).
        assert dumps(list(dicts)) == dumps(expected)
    assert dicts.token == runs.token


def test_json_search_pages_like_the_entity_search(store: SqlStore) -> None:
    experiment_id, *_ = _seed(store)
    token: str | None = None
    pages = 0
    while True:
        runs = store.search_runs(
            [experiment_id], "", ViewType.ALL, 1, None, page_token=token
        )
        dicts = store.search_runs_json(
            [experiment_id], "", ViewType.ALL, 1, None, page_token=token
        )
        assert _decoded(dicts) == _decoded([run_to_dict(run) for run in runs])
        assert dicts.token == runs.token
        pages += 1
        token = runs.token
        if token is None:
            break
    assert pages == 4


def test_json_search_of_nothing(store: SqlStore) -> None:
    experiment_id = store.create_experiment("empty")
    found = store.search_runs_json([experiment_id])
    assert found == [] and found.token is None


def test_json_search_writes_the_special_numbers_as_protobuf_does(
    store: SqlStore,
) -> None:
    experiment_id, _, full, *_ = _seed(store)
    (run,) = _decoded(
        store.search_runs_json([experiment_id], "attributes.run_name = 'r'")
    )
    values = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    assert values == {
        "down": "-Infinity",
        "loss": 0.25,
        "nan": "NaN",
        "up": "Infinity",
        "whole": 2.0,
    }
    assert run["info"]["run_id"] == full and run["info"]["end_time"] == 99
    assert [t["key"] for t in run["data"]["tags"]] == [
        "a",
        "mid",
        "mlflow.runName",
        "z",
    ]


def test_json_search_keeps_key_order_over_many_runs(store: SqlStore) -> None:
    experiment_id = store.create_experiment("order")
    keys = [f"{prefix}{n}" for prefix in ("b", "A", "a", "_") for n in range(6)]
    for index in range(40):
        run_id = store.create_run(experiment_id, "u", index, [], None).info.run_id
        shuffled = keys[index % len(keys) :] + keys[: index % len(keys)]
        store.log_batch(
            run_id,
            params=[Param(key, str(index)) for key in reversed(shuffled)],
            tags=[RunTag(key, "t") for key in shuffled],
        )
    runs = store.search_runs([experiment_id], max_results=100)
    dicts = store.search_runs_json([experiment_id], max_results=100)
    # The entity path orders keys in SQL; lists compare in order.
    assert _decoded(dicts) == _decoded([run_to_dict(run) for run in runs])
    assert len(dicts) == 40
    for run in _decoded(dicts):
        assert len(run["data"]["params"]) == len(keys)
        assert len(run["data"]["tags"]) == len(keys) + 1  # and mlflow.runName
