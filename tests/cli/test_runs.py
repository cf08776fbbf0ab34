from __future__ import annotations

import json

import pytest

from kiln.entities import Run
from kiln.tracking.client import KilnClient

from .helpers import Invoke, one_error_line


def _logged_run(
    client: KilnClient, experiment_id: str, name: str, lr: float, losses: list[float]
) -> Run:
    run = client.create_run(experiment_id, run_name=name, start_time=1_000)
    run_id = run.info.run_id
    client.log_param(run_id, "lr", lr)
    for step, loss in enumerate(losses):
        client.log_metric(run_id, "loss", loss, step=step)
    client.set_tag(run_id, "team", "risk")
    client.set_terminated(run_id, end_time=66_000)
    return client.get_run(run_id)


@pytest.fixture
def experiment_id(client: KilnClient) -> str:
    return client.create_experiment("training")


def test_list_prints_one_row_per_run(
    kiln: Invoke, client: KilnClient, experiment_id: str
) -> None:
    first = _logged_run(client, experiment_id, "first", 0.1, [0.9, 0.5])
    second = _logged_run(client, experiment_id, "second-run", 0.01, [0.8, 0.3])

    result = kiln("runs", "list", "--experiment-id", experiment_id)

    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["RUN", "ID", "NAME", "STATUS", "STARTED", "DURATION"]
    by_id = {row.split()[0]: row.split() for row in rows}
    assert by_id.keys() == {first.info.run_id, second.info.run_id}
    assert by_id[first.info.run_id][1:3] == ["first", "FINISHED"]
    assert by_id[first.info.run_id][-2:] == ["1m", "05s"]


def test_list_as_json_with_filter_and_order(
    kiln: Invoke, client: KilnClient, experiment_id: str
) -> None:
    _logged_run(client, experiment_id, "a", 0.1, [0.9, 0.7])
    _logged_run(client, experiment_id, "b", 0.01, [0.8, 0.2])
    _logged_run(client, experiment_id, "c", 0.001, [0.8, 0.4])

    result = kiln(
        "runs", "list", "--experiment-id", experiment_id,
        "--filter", "metrics.loss < 0.5", "--order-by", "metrics.loss DESC",
        "--output", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["info"]["run_name"] for r in payload["runs"]] == ["c", "b"]
    assert payload["runs"][1]["data"] == {
        "metrics": {"loss": 0.2},
        "params": {"lr": "0.01"},
        "tags": payload["runs"][1]["data"]["tags"],
    }
    assert payload["runs"][1]["data"]["tags"]["team"] == "risk"
    assert payload["next_page_token"] is None


def test_list_takes_several_experiments(kiln: Invoke, client: KilnClient) -> None:
    ids = [client.create_experiment(name) for name in ("one", "two")]
    for experiment_id in ids:
        client.create_run(experiment_id)

    result = kiln(
        "runs", "list", "--experiment-id", ids[0], "--experiment-id", ids[1],
        "--output", "json",
    )  # fmt: skip

    found = {r["info"]["experiment_id"] for r in json.loads(result.stdout)["runs"]}
    assert found == set(ids)


@pytest.mark.parametrize("variable", ["KILN_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"])
def test_list_reads_the_experiment_from_the_environment(
    kiln: Invoke, client: KilnClient, experiment_id: str, variable: str
) -> None:
    run = client.create_run(experiment_id)

    result = kiln("runs", "list", "--output", "json", env={variable: experiment_id})

    assert result.exit_code == 0, result.output
    assert [r["info"]["run_id"] for r in json.loads(result.stdout)["runs"]] == [
        run.info.run_id
    ]


def test_list_pages(kiln: Invoke, client: KilnClient, experiment_id: str) -> None:
    for _ in range(3):
        client.create_run(experiment_id)
    query = ("runs", "list", "--experiment-id", experiment_id, "--max-results", "2")

    first = json.loads(kiln(*query, "--output", "json").stdout)
    second = json.loads(
        kiln(
            *query, "--page-token", first["next_page_token"], "--output", "json"
        ).stdout
    )

    assert len(first["runs"]) == 2
    assert len(second["runs"]) == 1
    assert second["next_page_token"] is None


def test_list_of_an_empty_experiment_says_so(kiln: Invoke, experiment_id: str) -> None:
    result = kiln("runs", "list", "--experiment-id", experiment_id)

    assert result.exit_code == 0
    assert result.stdout == "No runs found.\n"


def test_list_rejects_a_bad_filter_in_one_line(
    kiln: Invoke, experiment_id: str
) -> None:
    result = kiln(
        "runs", "list", "--experiment-id", experiment_id, "--filter", "metrics.x < 'a'"
    )

    assert result.exit_code == 1
    one_error_line(result)


def test_describe_shows_attributes_params_metrics_and_tags(
    kiln: Invoke, client: KilnClient, experiment_id: str
) -> None:
    run = _logged_run(client, experiment_id, "described", 0.1, [0.9, 0.5, 0.25])

    result = kiln("runs", "describe", "--run-id", run.info.run_id)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Run", run.info.run_id]
    assert lines[1].split() == ["Name", "described"]
    assert ["Experiment", experiment_id] in [line.split() for line in lines]
    assert lines[lines.index("Params") + 1] == "  lr  0.1"
    assert lines[lines.index("Metrics (latest)") + 1] == "  loss  0.25  (step 2)"
    assert "  team            risk" in lines[lines.index("Tags") :]


def test_describe_as_json(kiln: Invoke, client: KilnClient, experiment_id: str) -> None:
    run = _logged_run(client, experiment_id, "described", 0.1, [0.9, 0.5])

    result = kiln("runs", "describe", "--run-id", run.info.run_id, "--output", "json")

    payload = json.loads(result.stdout)
    assert payload["info"]["run_id"] == run.info.run_id
    assert payload["info"]["status"] == "FINISHED"
    assert payload["info"]["end_time"] == 66_000
    assert payload["data"]["metrics"] == {"loss": 0.5}
    assert payload["data"]["params"] == {"lr": "0.1"}
    assert set(payload) == {"info", "data", "inputs", "outputs"}


def test_describe_json_spells_a_nan_metric_as_a_string(
    kiln: Invoke, client: KilnClient, experiment_id: str
) -> None:
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "odd", float("nan"))

    result = kiln("runs", "describe", "--run-id", run_id, "--output", "json")

    assert json.loads(result.stdout)["data"]["metrics"] == {"odd": "NaN"}


def test_describe_of_an_unknown_run_fails_in_one_line(kiln: Invoke) -> None:
    result = kiln("runs", "describe", "--run-id", "0" * 32)

    assert result.exit_code == 1
    assert "0" * 32 in one_error_line(result)
    assert result.stdout == ""


def test_delete_and_restore(
    kiln: Invoke, client: KilnClient, experiment_id: str
) -> None:
    run_id = client.create_run(experiment_id).info.run_id

    deleted = kiln("runs", "delete", "--run-id", run_id)
    listed_deleted = kiln(
        "runs", "list", "--experiment-id", experiment_id, "-v", "deleted_only"
    )
    restored = kiln("runs", "restore", "--run-id", run_id, "--output", "json")

    assert deleted.stdout == f"Deleted run {run_id}.\n"
    header, row = listed_deleted.stdout.splitlines()
    assert header.split()[-1] == "STAGE"
    assert row.split()[0] == run_id
    assert row.split()[-1] == "deleted"
    assert json.loads(restored.stdout) == {
        "run_id": run_id,
        "lifecycle_stage": "active",
    }
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_delete_requires_the_run_id(kiln: Invoke) -> None:
    result = kiln("runs", "delete")

    assert result.exit_code == 2
    assert "--run-id" in one_error_line(result)
