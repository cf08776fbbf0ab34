"""``kiln registry history`` and ``rollback``, and ``--reason`` on the
commands that move an alias or a stage."""

from __future__ import annotations

import json

from kiln.tracking.client import KilnClient
from kiln.tracking.context import current_user
from kiln.tracking.registry import register_model

from .helpers import Invoke, one_error_line


def _register(client: KilnClient, times: int = 3) -> None:
    run_id = client.create_run("0").info.run_id
    for _ in range(times):
        register_model(client, f"runs:/{run_id}/model", "churn")


def _ok(kiln: Invoke, *args: str) -> str:
    result = kiln("registry", *args)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def test_history_table_shows_moves_with_who_and_why(
    kiln: Invoke, client: KilnClient
) -> None:
    _register(client)
    _ok(kiln, "set-alias", "-n", "churn", "-a", "champion", "-v", "1")
    _ok(kiln, "set-alias", "-n", "churn", "-a", "champion", "-v", "2",
        "--reason", "Better AUC")  # fmt: skip
    _ok(kiln, "transition", "-n", "churn", "-v", "2", "-s", "Staging",
        "--reason", "Try it")  # fmt: skip

    lines = _ok(kiln, "history", "-n", "churn").splitlines()

    assert lines[0].split() == ["TIME", "KIND", "WHAT", "FROM", "TO", "USER", "REASON"]
    user = current_user()
    # Each row starts with a date and a time.
    assert [line.split()[2:] for line in lines[1:]] == [
        ["stage", "version", "2", "None", "Staging", user, "Try", "it"],
        ["alias", "champion", "1", "2", user, "Better", "AUC"],
        ["alias", "champion", "-", "1", user, "-"],
    ]


def test_history_json_keeps_one_alias_or_the_stages(
    kiln: Invoke, client: KilnClient
) -> None:
    _register(client)
    client.set_registered_model_alias("churn", "champion", 1)
    client.set_registered_model_alias("churn", "challenger", 2)
    client.transition_model_version_stage("churn", 1, "Production")

    by_alias = json.loads(
        _ok(kiln, "history", "-n", "churn", "-a", "challenger", "--output", "json")
    )
    stages = json.loads(_ok(kiln, "history", "-n", "churn", "--stages",
                            "--output", "json"))  # fmt: skip

    assert [e["alias"] for e in by_alias["history"]] == ["challenger"]
    assert by_alias["next_page_token"] is None
    assert [(e["kind"], e["stage"]) for e in stages["history"]] == [
        ("stage", "Production")
    ]


def test_history_pages_for_people(kiln: Invoke, client: KilnClient) -> None:
    _register(client)
    for version in (1, 2, 3):
        client.set_registered_model_alias("churn", "champion", version)

    first = kiln("registry", "history", "-n", "churn", "--max-results", "2")

    assert len(first.stdout.splitlines()) == 3
    assert "--page-token" in first.stderr
    token = first.stderr.split("--page-token ")[1].strip()
    rest = _ok(kiln, "history", "-n", "churn", "--page-token", token)
    assert len(rest.splitlines()) == 2


def test_rollback_moves_the_alias_back(kiln: Invoke, client: KilnClient) -> None:
    _register(client)
    for version in (1, 2, 3):
        client.set_registered_model_alias("churn", "champion", version)

    out = _ok(kiln, "rollback", "-n", "churn", "-a", "champion",
              "--reason", "Drift in 3")  # fmt: skip

    assert out == "Alias 'champion' of 'churn' now points at version 2.\n"
    newest = client.get_registry_history("churn")[0]
    assert (newest.previous_version, newest.version) == ("3", "2")
    assert (newest.reason, newest.user_id) == ("Drift in 3", current_user())
    again = json.loads(
        _ok(kiln, "rollback", "-n", "churn", "-a", "champion", "--output", "json")
    )
    assert again["version"] == "3" and again["aliases"] == ["champion"]


def test_rollback_with_nothing_before_fails_in_one_line(
    kiln: Invoke, client: KilnClient
) -> None:
    _register(client, times=1)
    client.set_registered_model_alias("churn", "champion", 1)

    result = kiln("registry", "rollback", "-n", "churn", "-a", "champion")

    assert result.exit_code == 1
    assert "no earlier version" in one_error_line(result)
    empty = _ok(kiln, "history", "-n", "churn", "--stages")
    assert empty == "No history entries found.\n"
