from __future__ import annotations

import math

import pandas as pd
import pytest

import kiln
from kiln.entities import Run
from kiln.errors import InvalidParameterValue
from kiln.tracking import experiments as experiments_module
from kiln.tracking import runs as runs_module
from kiln.tracking.client import KilnClient

_INFO_COLUMNS = [
    "run_id",
    "experiment_id",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
]


def _two_runs() -> tuple[str, str]:
    with kiln.start_run(run_name="a") as first:
        kiln.log_param("p", "x")
        kiln.log_metric("loss", 0.5)
    with kiln.start_run(run_name="b") as second:
        kiln.log_metric("acc", 0.75)
        kiln.set_tag("only", "second")
    return first.info.run_id, second.info.run_id


def test_dataframe_has_mlflow_columns_and_dtypes() -> None:
    first, second = _two_runs()
    df = kiln.search_runs()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:6]) == _INFO_COLUMNS
    assert set(df.columns[6:]) >= {
        "metrics.loss",
        "metrics.acc",
        "params.p",
        "tags.only",
        "tags.mlflow.runName",
        "tags.mlflow.user",
        "tags.mlflow.source.name",
        "tags.mlflow.source.type",
    }
    assert str(df["start_time"].dtype) == "datetime64[us, UTC]"
    assert str(df["end_time"].dtype) == "datetime64[us, UTC]"
    assert df["metrics.loss"].dtype == "float64"
    assert pd.api.types.is_string_dtype(df["params.p"].dtype)

    # Newest first, MLflow's default order.
    assert list(df["run_id"]) == [second, first]
    by_id = df.set_index("run_id")
    assert by_id.loc[first, "metrics.loss"] == 0.5
    assert math.isnan(by_id.loc[second, "metrics.loss"])
    assert pd.isna(by_id.loc[first, "tags.only"])
    assert by_id.loc[second, "tags.mlflow.runName"] == "b"
    assert set(df["status"]) == {"FINISHED"}
    assert set(df["experiment_id"]) == {"0"}


def test_column_groups_are_ordered_metrics_params_tags() -> None:
    _two_runs()
    groups = [c.split(".", 1)[0] for c in kiln.search_runs().columns[6:]]
    assert groups == sorted(groups, key=["metrics", "params", "tags"].index)


def test_running_run_has_no_end_time() -> None:
    with kiln.start_run():
        df = kiln.search_runs()
    assert df["end_time"].isna().all()
    assert df["start_time"].notna().all()


def test_empty_result_still_has_info_columns() -> None:
    df = kiln.search_runs()
    assert list(df.columns) == _INFO_COLUMNS
    assert len(df) == 0


def test_list_output_and_filter() -> None:
    first, _ = _two_runs()
    found = kiln.search_runs(filter_string="params.p = 'x'", output_format="list")
    assert isinstance(found, list)
    assert [run.info.run_id for run in found if isinstance(run, Run)] == [first]


def test_bad_output_format_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="output_format"):
        kiln.search_runs(output_format="arrow")  # type: ignore[arg-type]


def test_experiment_selection(client: KilnClient) -> None:
    vision = kiln.set_experiment("vision").experiment_id
    with kiln.start_run() as in_vision:
        pass
    text = kiln.set_experiment("text").experiment_id
    with kiln.start_run() as in_text:
        pass

    def ids(**kwargs: object) -> set[str]:
        found = kiln.search_runs(output_format="list", **kwargs)  # type: ignore[arg-type]
        return {run.info.run_id for run in found if isinstance(run, Run)}

    assert ids() == {in_text.info.run_id}
    assert ids(experiment_ids=[vision]) == {in_vision.info.run_id}
    assert ids(experiment_names=["vision", "missing"]) == {in_vision.info.run_id}
    assert ids(search_all_experiments=True) == {
        in_vision.info.run_id,
        in_text.info.run_id,
    }
    assert ids(experiment_ids=[vision, text]) == ids(search_all_experiments=True)
    with pytest.raises(InvalidParameterValue, match="not both"):
        ids(experiment_ids=[vision], experiment_names=["text"])


def test_unknown_experiment_name_from_env_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, client: KilnClient
) -> None:
    monkeypatch.setenv("KILN_EXPERIMENT_NAME", "not-yet")
    assert len(kiln.search_runs()) == 0
    assert client.get_experiment_by_name("not-yet") is None


def test_results_follow_pages_up_to_max_results(
    monkeypatch: pytest.MonkeyPatch, client: KilnClient
) -> None:
    monkeypatch.setattr(runs_module, "SEARCH_RUNS_MAX", 2)
    created = {client.create_run("0").info.run_id for _ in range(5)}
    everything = kiln.search_runs(output_format="list")
    assert {run.info.run_id for run in everything if isinstance(run, Run)} == created
    assert len(kiln.search_runs(max_results=3)) == 3


def test_search_experiments_follows_pages(
    monkeypatch: pytest.MonkeyPatch, client: KilnClient
) -> None:
    monkeypatch.setattr(experiments_module, "SEARCH_EXPERIMENTS_MAX", 2)
    for i in range(4):
        client.create_experiment(f"e{i}")
    assert len(kiln.search_experiments()) == 5
    assert len(kiln.search_experiments(max_results=3)) == 3
