from __future__ import annotations

import os

import pytest

import kiln
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.tracking.client import KilnClient


def test_set_experiment_creates_and_exports(client: KilnClient) -> None:
    experiment = kiln.set_experiment("vision")
    assert client.get_experiment_by_name("vision") == experiment
    for prefix in ("KILN", "MLFLOW"):
        assert os.environ[f"{prefix}_EXPERIMENT_ID"] == experiment.experiment_id
        assert os.environ[f"{prefix}_EXPERIMENT_NAME"] == "vision"
    with kiln.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id


def test_set_experiment_reuses_existing(client: KilnClient) -> None:
    experiment_id = client.create_experiment("existing")
    assert kiln.set_experiment("existing").experiment_id == experiment_id
    assert kiln.set_experiment(experiment_id=experiment_id).name == "existing"


def test_set_experiment_by_unknown_id() -> None:
    with pytest.raises(ResourceDoesNotExist):
        kiln.set_experiment(experiment_id="12345")


@pytest.mark.parametrize(("name", "experiment_id"), [(None, None), ("both", "0")])
def test_set_experiment_needs_exactly_one(
    name: str | None, experiment_id: str | None
) -> None:
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        kiln.set_experiment(name, experiment_id)


def test_set_deleted_experiment_is_refused(client: KilnClient) -> None:
    experiment_id = client.create_experiment("gone")
    client.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameterValue, match="deleted experiment 'gone'"):
        kiln.set_experiment("gone")


def test_runs_default_to_experiment_zero() -> None:
    with kiln.start_run() as run:
        pass
    assert run.info.experiment_id == "0"


def test_explicit_experiment_id_wins(client: KilnClient) -> None:
    kiln.set_experiment("chosen")
    other = client.create_experiment("other")
    with kiln.start_run(experiment_id=other) as run:
        pass
    assert run.info.experiment_id == other


@pytest.mark.parametrize("prefix", ["KILN", "MLFLOW"])
def test_experiment_id_from_environment(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    experiment_id = client.create_experiment("from-env")
    monkeypatch.setenv(f"{prefix}_EXPERIMENT_ID", experiment_id)
    with kiln.start_run() as run:
        pass
    assert run.info.experiment_id == experiment_id


@pytest.mark.parametrize("prefix", ["KILN", "MLFLOW"])
def test_experiment_name_from_environment_is_created(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    monkeypatch.setenv(f"{prefix}_EXPERIMENT_NAME", "named-by-env")
    with kiln.start_run() as run:
        pass
    created = client.get_experiment_by_name("named-by-env")
    assert created is not None
    assert run.info.experiment_id == created.experiment_id


def test_kiln_variables_win_over_mlflow_ones(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiln_id = client.create_experiment("kiln-side")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", client.create_experiment("mlflow-side"))
    monkeypatch.setenv("KILN_EXPERIMENT_NAME", "kiln-side")
    with kiln.start_run() as run:
        pass
    assert run.info.experiment_id == kiln_id


def test_set_experiment_wins_over_environment(
    client: KilnClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", client.create_experiment("env"))
    chosen = kiln.set_experiment("chosen")
    monkeypatch.setenv("KILN_EXPERIMENT_ID", "0")
    with kiln.start_run() as run:
        pass
    assert run.info.experiment_id == chosen.experiment_id


def test_fluent_experiment_helpers(client: KilnClient) -> None:
    experiment_id = kiln.create_experiment("helpers", tags={"k": "v"})
    assert kiln.get_experiment(experiment_id).tags == {"k": "v"}
    found = kiln.get_experiment_by_name("helpers")
    assert found is not None and found.experiment_id == experiment_id
    names = {e.name for e in kiln.search_experiments()}
    assert names == {"Default", "helpers"}
    assert len(kiln.search_experiments(max_results=1)) == 1
    client.delete_experiment(experiment_id)
    assert [e.name for e in kiln.search_experiments(view_type="DELETED_ONLY")] == [
        "helpers"
    ]
