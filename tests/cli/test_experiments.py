from __future__ import annotations

import json

import pytest

from kiln.tracking.client import KilnClient

from .helpers import Invoke, one_error_line


def test_create_prints_the_new_id(kiln: Invoke, client: KilnClient) -> None:
    result = kiln("experiments", "create", "-n", "fraud")

    assert result.exit_code == 0, result.output
    experiment = client.get_experiment_by_name("fraud")
    assert experiment is not None
    assert result.stdout == (
        f"Created experiment 'fraud' with id {experiment.experiment_id}.\n"
    )


def test_create_with_artifact_location_and_tags(
    kiln: Invoke, client: KilnClient, tmp_path: object
) -> None:
    location = f"{tmp_path}/elsewhere"

    result = kiln(
        "experiments", "create", "--experiment-name", "tagged",
        "-l", location, "-t", "team=risk", "--tag", "stage=dev=1",
        "--output", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    experiment_id = json.loads(result.stdout)["experiment_id"]
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == "tagged"
    assert experiment.artifact_location.endswith("elsewhere")
    assert experiment.tags == {"team": "risk", "stage": "dev=1"}


def test_create_refuses_a_tag_without_equals(kiln: Invoke) -> None:
    result = kiln("experiments", "create", "-n", "x", "-t", "team")

    assert result.exit_code == 2
    assert "'team' is not KEY=VALUE." in one_error_line(result)


def test_create_refuses_a_taken_name(kiln: Invoke, client: KilnClient) -> None:
    client.create_experiment("taken")

    result = kiln("experiments", "create", "-n", "taken")

    assert result.exit_code == 1
    assert "taken" in one_error_line(result)
    assert result.stdout == ""


def test_search_prints_an_aligned_table(kiln: Invoke, client: KilnClient) -> None:
    first = client.create_experiment("alpha")
    second = client.create_experiment("a-much-longer-name")

    result = kiln("experiments", "search")

    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED", "ARTIFACT", "LOCATION"]
    ids = [row.split()[0] for row in rows]
    assert {first, second, "0"} <= set(ids)
    name_column = header.index("NAME")
    assert all(row[name_column - 2 : name_column] == "  " for row in rows)
    assert "STAGE" not in header


def test_search_as_json_with_filter_and_order(kiln: Invoke, client: KilnClient) -> None:
    for name in ("fraud-b", "fraud-a", "churn"):
        client.create_experiment(name)

    result = kiln(
        "experiments", "search", "--filter", "name LIKE 'fraud%'",
        "--order-by", "name ASC", "--output", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [e["name"] for e in payload["experiments"]] == ["fraud-a", "fraud-b"]
    assert payload["next_page_token"] is None
    assert set(payload["experiments"][0]) >= {
        "experiment_id", "name", "artifact_location", "lifecycle_stage",
        "creation_time", "last_update_time", "tags",
    }  # fmt: skip


def test_search_pages_with_max_results_and_page_token(
    kiln: Invoke, client: KilnClient
) -> None:
    for name in ("p1", "p2", "p3"):
        client.create_experiment(name)
    query = (
        "experiments",
        "search",
        "--filter",
        "name LIKE 'p%'",
        "--order-by",
        "name",
    )

    first = kiln(*query, "--max-results", "2", "--output", "json")
    token = json.loads(first.stdout)["next_page_token"]
    second = kiln(
        *query, "--max-results", "2", "--page-token", token, "--output", "json"
    )
    table = kiln(*query, "--max-results", "2")

    assert [e["name"] for e in json.loads(first.stdout)["experiments"]] == ["p1", "p2"]
    assert [e["name"] for e in json.loads(second.stdout)["experiments"]] == ["p3"]
    assert f"--page-token {token}" in table.stderr


def test_search_rejects_a_bad_filter_in_one_line(kiln: Invoke) -> None:
    result = kiln("experiments", "search", "--filter", "name ==== 'x'")

    assert result.exit_code == 1
    one_error_line(result)


def test_search_with_no_match_says_so(kiln: Invoke) -> None:
    result = kiln("experiments", "search", "--filter", "name = 'nothing'")

    assert result.exit_code == 0
    assert result.stdout == "No experiments found.\n"


@pytest.mark.parametrize(
    ("args", "expected_names"),
    [
        ((), {"Default", "kept"}),
        (("-v", "deleted_only"), {"gone"}),
        (("--view", "all"), {"Default", "kept", "gone"}),
    ],
)
def test_search_view(
    kiln: Invoke, client: KilnClient, args: tuple[str, ...], expected_names: set[str]
) -> None:
    client.create_experiment("kept")
    client.delete_experiment(client.create_experiment("gone"))

    result = kiln("experiments", "search", *args, "--output", "json")

    assert {e["name"] for e in json.loads(result.stdout)["experiments"]} == (
        expected_names
    )


def test_search_of_deleted_shows_the_stage_column(
    kiln: Invoke, client: KilnClient
) -> None:
    client.delete_experiment(client.create_experiment("gone"))

    result = kiln("experiments", "search", "-v", "all")

    header, *rows = result.stdout.splitlines()
    assert header.split()[-1] == "STAGE"
    assert any(row.split()[-1] == "deleted" for row in rows)


def test_get_by_id_and_by_name(kiln: Invoke, client: KilnClient) -> None:
    experiment_id = client.create_experiment("fraud", tags={"team": "risk"})

    by_id = kiln("experiments", "get", "-x", experiment_id)
    by_name = kiln("experiments", "get", "-n", "fraud", "--output", "json")

    assert by_id.exit_code == 0, by_id.output
    lines = by_id.stdout.splitlines()
    assert lines[0].split() == ["Experiment", experiment_id]
    assert lines[1].split() == ["Name", "fraud"]
    assert lines[-2:] == ["Tags", "  team  risk"]
    assert json.loads(by_name.stdout)["experiment_id"] == experiment_id


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ((), 2, "Give --experiment-id or --experiment-name."),
        (("-x", "1", "-n", "a"), 2, "not both"),
        (("-n", "missing"), 1, "No experiment is named 'missing'."),
        (("-x", "999"), 1, "999"),
    ],
)
def test_get_errors(
    kiln: Invoke, args: tuple[str, ...], status: int, message: str
) -> None:
    result = kiln("experiments", "get", *args)

    assert result.exit_code == status
    assert message in one_error_line(result)


def test_rename(kiln: Invoke, client: KilnClient) -> None:
    experiment_id = client.create_experiment("old")

    result = kiln("experiments", "rename", "-x", experiment_id, "--new-name", "new")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Renamed experiment {experiment_id} to 'new'.\n"
    assert client.get_experiment(experiment_id).name == "new"


def test_rename_requires_the_new_name(kiln: Invoke) -> None:
    result = kiln("experiments", "rename", "-x", "0")

    assert result.exit_code == 2
    assert "--new-name" in one_error_line(result)


def test_delete_and_restore(kiln: Invoke, client: KilnClient) -> None:
    experiment_id = client.create_experiment("cycle")

    deleted = kiln("experiments", "delete", "-x", experiment_id)
    stage_deleted = client.get_experiment(experiment_id).lifecycle_stage
    restored = kiln("experiments", "restore", "-x", experiment_id, "--output", "json")
    stage_restored = client.get_experiment(experiment_id).lifecycle_stage

    assert deleted.stdout == f"Deleted experiment {experiment_id}.\n"
    assert stage_deleted == "deleted"
    assert json.loads(restored.stdout) == {
        "experiment_id": experiment_id,
        "lifecycle_stage": "active",
    }
    assert stage_restored == "active"


def test_delete_of_an_unknown_experiment_fails(kiln: Invoke) -> None:
    result = kiln("experiments", "delete", "--experiment-id", "4242")

    assert result.exit_code == 1
    assert "4242" in one_error_line(result)
