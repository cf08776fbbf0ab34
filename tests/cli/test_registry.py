from __future__ import annotations

import json

from kiln.tracking.client import KilnClient

from .helpers import Invoke, one_error_line


def _register(kiln: Invoke, client: KilnClient, times: int = 1) -> str:
    run_id = client.create_run("0").info.run_id
    for _ in range(times):
        result = kiln("registry", "register", f"runs:/{run_id}/model", "-n", "churn")
        assert result.exit_code == 0, result.output
    return run_id


def test_register_prints_the_new_version(kiln: Invoke, client: KilnClient) -> None:
    run_id = client.create_run("0").info.run_id
    uri = f"runs:/{run_id}/model"

    result = kiln("registry", "register", uri, "-n", "churn", "-t", "k=v")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Registered {uri} as version 1 of 'churn'.\n"
    assert client.get_model_version("churn", 1).tags == {"k": "v"}
    again = kiln("registry", "register", uri, "-n", "churn", "--output", "json")
    assert json.loads(again.stdout)["version"] == "2"


def test_models_and_versions_tables(kiln: Invoke, client: KilnClient) -> None:
    _register(kiln, client, times=2)
    alias = kiln("registry", "set-alias", "-n", "churn", "-a", "best", "-v", "2")
    assert alias.exit_code == 0, alias.output

    models = kiln("registry", "models")
    assert models.exit_code == 0, models.output
    header, row = models.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "LATEST", "ALIASES"]
    assert row.split()[:3] == ["churn", "2", "best=2"]

    versions = kiln("registry", "versions", "-n", "churn")
    lines = versions.stdout.splitlines()
    assert [line.split()[:4] for line in lines[1:]] == [
        ["churn", "2", "None", "best"],
        ["churn", "1", "None", "-"],
    ]


def test_json_output_has_mlflow_shapes(kiln: Invoke, client: KilnClient) -> None:
    _register(kiln, client)
    kiln("registry", "set-alias", "-n", "churn", "-a", "best", "-v", "1")

    models = json.loads(kiln("registry", "models", "--output", "json").stdout)
    versions = json.loads(kiln("registry", "versions", "--output", "json").stdout)

    (model,) = models["registered_models"]
    assert model["aliases"] == [{"alias": "best", "version": "1"}]
    assert versions["model_versions"][0]["aliases"] == ["best"]
    assert versions["next_page_token"] is None


def test_alias_commands(kiln: Invoke, client: KilnClient) -> None:
    _register(kiln, client)

    moved = kiln("registry", "set-alias", "-n", "churn", "-a", "best", "-v", "1")
    assert moved.stdout == "Alias 'best' of 'churn' now points at version 1.\n"
    assert client.get_model_version_by_alias("churn", "best").version == "1"
    removed = kiln("registry", "delete-alias", "-n", "churn", "-a", "best")
    assert removed.exit_code == 0 and client.get_registered_model("churn").aliases == ()


def test_transition(kiln: Invoke, client: KilnClient) -> None:
    _register(kiln, client, times=2)
    kiln("registry", "transition", "-n", "churn", "-v", "1", "-s", "production")

    result = kiln(
        "registry", "transition", "-n", "churn", "-v", "2", "-s", "Production",
        "--archive-existing",
    )  # fmt: skip

    assert result.stdout == "Version 2 of 'churn' is now in Production.\n"
    assert client.get_model_version("churn", 1).current_stage == "Archived"


def test_errors_are_one_line(kiln: Invoke, client: KilnClient) -> None:
    _register(kiln, client)

    reserved = kiln("registry", "set-alias", "-n", "churn", "-a", "latest", "-v", "1")
    unknown = kiln("registry", "transition", "-n", "nope", "-v", "1", "-s", "Staging")
    bad_stage = kiln("registry", "transition", "-n", "churn", "-v", "1", "-s", "Live")

    assert reserved.exit_code == 1 and "'latest'" in one_error_line(reserved)
    assert unknown.exit_code == 1 and "'nope'" in one_error_line(unknown)
    assert "'Live'" in one_error_line(bad_stage)
