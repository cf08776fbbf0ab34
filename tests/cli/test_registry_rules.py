"""``kiln registry rule``: set, show, list and delete promotion rules, and
the refusal a guarded ``set-alias`` prints."""

from __future__ import annotations

import json

from kiln.tracking.client import KilnClient
from kiln.tracking.context import current_user

from .helpers import Invoke, one_error_line

RULE = "metrics.val_auc >= 0.9 AND tags.validated = 'true'"


def _version(client: KilnClient, val_auc: float) -> str:
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "val_auc", val_auc)
    client.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    return run_id


def test_set_get_list_and_delete(kiln: Invoke, client: KilnClient) -> None:
    client.create_registered_model("churn")

    stored = kiln("registry", "rule", "set", "-n", "churn", "-a", "champion", RULE)
    assert stored.exit_code == 0, stored.output
    assert stored.stdout == f"Alias 'champion' of 'churn' is now guarded by: {RULE}\n"
    kiln(
        "registry",
        "rule",
        "set",
        "-n",
        "churn",
        "-a",
        "challenger",
        "metrics.val_auc > 0.5",
    )

    shown = kiln("registry", "rule", "get", "-n", "churn", "-a", "champion")
    assert shown.exit_code == 0, shown.output
    fields = dict(line.split(None, 1) for line in shown.stdout.splitlines())
    assert fields["Rule"] == RULE and fields["Alias"] == "champion"
    assert fields["Model"] == "churn" and fields["User"] == current_user()

    listed = kiln("registry", "rule", "list", "-n", "churn")
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ALIAS", "RULE", "UPDATED", "USER"]
    assert [row.split()[0] for row in rows] == ["challenger", "champion"]
    assert RULE in rows[1]

    removed = kiln("registry", "rule", "delete", "-n", "churn", "-a", "champion")
    assert removed.exit_code == 0, removed.output
    assert removed.stdout == "Alias 'champion' of 'churn' has no promotion rule now.\n"
    assert [r.alias for r in client.list_promotion_rules("churn")] == ["challenger"]


def test_json_output(kiln: Invoke, client: KilnClient) -> None:
    client.create_registered_model("churn")
    stored = kiln(
        "registry",
        "rule",
        "set",
        "-n",
        "churn",
        "-a",
        "champion",
        RULE,
        "--output",
        "json",
    )
    assert json.loads(stored.stdout)["rule"] == RULE

    shown = json.loads(
        kiln(
            "registry",
            "rule",
            "get",
            "-n",
            "churn",
            "-a",
            "champion",
            "--output",
            "json",
        ).stdout
    )
    listed = json.loads(
        kiln("registry", "rule", "list", "-n", "churn", "--output", "json").stdout
    )
    assert listed == {"promotion_rules": [shown]}
    assert set(shown) >= {"name", "alias", "rule", "creation_timestamp"}


def test_empty_list_says_so(kiln: Invoke, client: KilnClient) -> None:
    client.create_registered_model("churn")
    listed = kiln("registry", "rule", "list", "-n", "churn")
    assert listed.stdout == "No promotion rules for 'churn'.\n"


def test_errors_are_one_line(kiln: Invoke, client: KilnClient) -> None:
    client.create_registered_model("churn")

    bad = kiln(
        "registry", "rule", "set", "-n", "churn", "-a", "champion", "metrics.val_auc >"
    )
    assert bad.exit_code == 1
    assert "position 17" in one_error_line(bad)
    missing = kiln("registry", "rule", "get", "-n", "churn", "-a", "champion")
    assert missing.exit_code == 1
    assert "has no promotion rule" in one_error_line(missing)
    unknown = kiln("registry", "rule", "list", "-n", "nope")
    assert "'nope'" in one_error_line(unknown)


def test_a_guarded_set_alias_prints_each_failing_condition(
    kiln: Invoke, client: KilnClient
) -> None:
    client.create_registered_model("churn")
    run_id = _version(client, 0.85)
    kiln("registry", "rule", "set", "-n", "churn", "-a", "champion", RULE)

    refused = kiln("registry", "set-alias", "-n", "churn", "-a", "champion", "-v", "1")

    assert refused.exit_code == 1
    line = one_error_line(refused)
    assert f"metrics.val_auc >= 0.9 failed: run {run_id} has val_auc = 0.85" in line
    assert f"tags.validated = 'true' failed: run {run_id} has no tag validated" in line
    assert client.get_registered_model("churn").aliases == ()

    client.set_tag(run_id, "validated", "true")
    client.log_metric(run_id, "val_auc", 0.95)
    moved = kiln("registry", "set-alias", "-n", "churn", "-a", "champion", "-v", "1")
    assert moved.exit_code == 0, moved.output
