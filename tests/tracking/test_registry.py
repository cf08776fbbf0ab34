from __future__ import annotations

import pytest

import kiln
from kiln.entities import LoggedModelOutput, RegisteredModelAlias
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.tracking.client import KilnClient
from kiln.tracking.registry import model_version_for_uri


def _register_versions(client: KilnClient, count: int) -> str:
    run = client.create_run("0")
    for _ in range(count):
        kiln.register_model(f"runs:/{run.info.run_id}/model", "churn")
    return run.info.run_id


def test_client_registry_round_trip(client: KilnClient) -> None:
    model = client.create_registered_model("churn", {"team": 1}, "first")
    assert model.tags == {"team": "1"}
    run_id = client.create_run("0").info.run_id
    version = client.create_model_version(
        "churn", f"runs:/{run_id}/model", run_id, tags={"k": "v"}
    )
    assert version.version == "1" and version.tags == {"k": "v"}
    client.set_registered_model_alias("churn", "champion", 1)
    assert client.get_model_version_by_alias("churn", "champion").version == "1"
    assert client.get_registered_model("churn").aliases == (
        RegisteredModelAlias("champion", "1"),
    )
    client.transition_model_version_stage("churn", 1, "Staging")
    assert [v.version for v in client.get_latest_versions("churn", ["Staging"])] == [
        "1"
    ]
    client.set_registered_model_tag("churn", "t", "x")
    client.set_model_version_tag("churn", 1, "t", "y")
    client.update_model_version("churn", 1, "desc")
    assert client.get_model_version("churn", 1).description == "desc"
    uri = client.get_model_version_download_uri("churn", 1)
    assert uri == client.get_artifact_uri(run_id, "model")
    renamed = client.rename_registered_model("churn", "churn2")
    assert client.search_registered_models("name = 'churn2'")[0] == renamed
    assert len(client.search_model_versions("name = 'churn2'")) == 1
    client.delete_registered_model_alias("churn2", "champion")
    client.delete_model_version("churn2", 1)
    client.delete_registered_model("churn2")
    assert client.search_registered_models() == []


def test_register_model_creates_the_model_then_adds_versions(
    client: KilnClient,
) -> None:
    run_id = _register_versions(client, 2)
    versions = client.search_model_versions("name = 'churn'")
    assert sorted(v.version for v in versions) == ["1", "2"]
    assert {v.run_id for v in versions} == {run_id}


def test_register_model_uses_the_runs_logged_model(client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    logged = client.store.create_logged_model("0", "clf", source_run_id=run_id)
    client.store.log_outputs(run_id, [LoggedModelOutput(logged.model_id, 0)])
    version = kiln.register_model(f"runs:/{run_id}/clf", "churn")
    assert version.source == f"models:/{logged.model_id}"
    assert version.model_id == logged.model_id and version.run_id == run_id
    by_id = kiln.register_model(f"models:/{logged.model_id}", "churn")
    assert by_id.model_id == logged.model_id and by_id.run_id == run_id


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/2", "2"),
        ("models:/churn/latest", "3"),
        ("models:/churn/production", "1"),
        ("models:/churn/Staging", "2"),
        ("models:/churn@champion", "2"),
    ],
)
def test_registry_uris_name_versions(
    client: KilnClient, uri: str, expected: str
) -> None:
    _register_versions(client, 3)
    client.transition_model_version_stage("churn", 1, "Production")
    client.transition_model_version_stage("churn", 2, "Staging")
    client.set_registered_model_alias("churn", "champion", 2)
    assert model_version_for_uri(client, uri).version == expected


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("models:/churn/Archived", ResourceDoesNotExist),
        ("models:/churn@nobody", InvalidParameterValue),
        ("models:/churn/1/extra", InvalidParameterValue),
        ("models:/churn/Deployed", InvalidParameterValue),
    ],
)
def test_registry_uris_that_name_nothing(
    client: KilnClient, uri: str, error: type[Exception]
) -> None:
    _register_versions(client, 1)
    with pytest.raises(error):
        model_version_for_uri(client, uri)
