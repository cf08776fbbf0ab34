from __future__ import annotations

import pytest

from kiln.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
)
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.sql.store import SqlStore

TRAIN = Dataset(
    "iris", "abc123", "local", '{"uri": "/data/iris.csv"}', '{"s": 1}', "{}"
)
EVAL = Dataset("iris-eval", "def456", "local", '{"uri": "/data/eval.csv"}')


def _context(value: str) -> tuple[InputTag, ...]:
    return (InputTag("mlflow.data.context", value),)


def test_log_inputs_round_trips_datasets_and_models(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_inputs(
        run_id,
        datasets=[DatasetInput(TRAIN, _context("training")), DatasetInput(EVAL)],
        models=[LoggedModelInput("m-1")],
    )
    inputs = store.get_run(run_id).inputs
    assert inputs.dataset_inputs == (
        DatasetInput(TRAIN, _context("training")),
        DatasetInput(EVAL),
    )
    assert inputs.model_inputs == (LoggedModelInput("m-1"),)


def test_dataset_is_stored_once_per_experiment(store: SqlStore) -> None:
    first = store.create_run("0", "u", 1, [], None).info.run_id
    second = store.create_run("0", "u", 2, [], None).info.run_id
    store.log_inputs(first, datasets=[DatasetInput(TRAIN, _context("training"))])
    store.log_inputs(first, datasets=[DatasetInput(TRAIN, _context("training"))])
    store.log_inputs(second, datasets=[DatasetInput(TRAIN, _context("eval"))])
    assert store.search_datasets(["0"]) == [
        DatasetSummary("0", "iris", "abc123", "eval"),
        DatasetSummary("0", "iris", "abc123", "training"),
    ]
    assert len(store.get_run(first).inputs.dataset_inputs) == 1


def test_search_datasets_is_per_experiment(store: SqlStore) -> None:
    other = store.create_experiment("other")
    run_id = store.create_run(other, "u", 1, [], None).info.run_id
    store.log_inputs(run_id, datasets=[DatasetInput(EVAL)])
    assert store.search_datasets(["0"]) == []
    assert store.search_datasets([other]) == [
        DatasetSummary(other, "iris-eval", "def456", None)
    ]
    assert store.search_datasets([]) == []


def test_search_datasets_refuses_too_many_or_bad_ids(store: SqlStore) -> None:
    with pytest.raises(InvalidParameterValue):
        store.search_datasets([str(i) for i in range(21)])
    with pytest.raises(InvalidParameterValue):
        store.search_datasets(["x"])


def test_log_outputs_round_trips(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_outputs(run_id, [LoggedModelOutput("m-2", 5), LoggedModelOutput("m-1")])
    store.log_outputs(run_id, [LoggedModelOutput("m-2", 5)])
    assert store.get_run(run_id).outputs.model_outputs == (
        LoggedModelOutput("m-1", 0),
        LoggedModelOutput("m-2", 5),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"datasets": [DatasetInput(Dataset("", "d", "local", "s"))]},
        {"datasets": [DatasetInput(Dataset("n", "d" * 37, "local", "s"))]},
        {"datasets": [DatasetInput(TRAIN, (InputTag("k", "v" * 501),))]},
        {"models": [LoggedModelInput("")]},
        {"datasets": [DatasetInput(TRAIN)], "models": [LoggedModelInput("m" * 65)]},
    ],
)
def test_log_inputs_refuses_bad_input_and_stores_nothing(
    store: SqlStore, kwargs: dict[str, object]
) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    with pytest.raises(InvalidParameterValue):
        store.log_inputs(run_id, **kwargs)  # type: ignore[arg-type]
    run = store.get_run(run_id)
    assert run.inputs.dataset_inputs == () and run.inputs.model_inputs == ()
    assert store.search_datasets(["0"]) == []


def test_inputs_and_outputs_refused_on_deleted_or_unknown_run(
    store: SqlStore,
) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.log_inputs(run_id, datasets=[DatasetInput(TRAIN)])
    with pytest.raises(InvalidParameterValue):
        store.log_outputs(run_id, [LoggedModelOutput("m-1")])
    with pytest.raises(ResourceDoesNotExist):
        store.log_inputs("f" * 32, models=[LoggedModelInput("m-1")])
    with pytest.raises(InvalidParameterValue):
        store.log_outputs(run_id, [LoggedModelOutput("m-1", "x")])  # type: ignore[arg-type]
