"""The stock ``mlflow`` client's alias moves are held to Kiln's promotion
rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.entities import Metric
from kiln.store.rest import RestConfig, RestStore

from .processes import run_mlflow_client, running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_promotion_rule_flow.py"
RULE = "metrics.val_auc >= 0.9 AND tags.validated = 'true'"


@pytest.mark.slow
def test_mlflow_client_is_refused_until_the_run_meets_the_rule(
    tmp_path: Path, mlflow_python: str
) -> None:
    with running_server(tmp_path) as (base_url, _):
        with RestStore(base_url, RestConfig(max_retries=0)) as store:
            store.create_registered_model("churn")
            run_id = store.create_run("0", "ann", 1, [], None).info.run_id
            store.log_metric(run_id, Metric("val_auc", 0.85, 1, 0))
            store.create_model_version("churn", f"runs:/{run_id}/model", run_id)
            store.set_promotion_rule("churn", "champion", RULE)

        result = run_mlflow_client(
            mlflow_python, str(FLOW), base_url, run_id, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "COMPAT-OK" in result.stdout

        with RestStore(base_url, RestConfig(max_retries=0)) as store:
            history = store.get_registry_history("churn", alias="champion")

    # Only the move that passed the rule happened.
    assert [(e.previous_version, e.version) for e in history] == [(None, "1")]
