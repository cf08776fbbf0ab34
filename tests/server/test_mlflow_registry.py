"""The stock ``mlflow`` client's model registry against ``kiln server``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.store.rest import RestConfig, RestStore

from .processes import run_mlflow_client, running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_registry_flow.py"


@pytest.mark.slow
def test_mlflow_client_uses_the_registry_through_kiln(
    tmp_path: Path, mlflow_python: str
) -> None:
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(mlflow_python, str(FLOW), base_url, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "COMPAT-OK" in result.stdout


HISTORY_FLOW = Path(__file__).with_name("scripts") / "mlflow_registry_history_flow.py"


@pytest.mark.slow
def test_mlflow_client_moves_are_recorded_with_its_user(
    tmp_path: Path, mlflow_python: str
) -> None:
    env = {"MLFLOW_TRACKING_USERNAME": "ada", "MLFLOW_TRACKING_PASSWORD": "secret"}
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(
            mlflow_python, str(HISTORY_FLOW), base_url, env=env, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "COMPAT-OK" in result.stdout
        with RestStore(base_url, RestConfig()) as store:
            history = store.get_registry_history("history")
            model = store.get_registered_model("history")

    assert [(e.kind, e.version, e.previous_version, e.stage) for e in history] == [
        ("alias", None, "2", None),
        ("stage", "2", None, "Production"),
        ("stage", "1", None, "Archived"),
        ("stage", "1", None, "Production"),
        ("alias", "2", "1", None),
        ("alias", "1", None, None),
    ]
    assert {e.user_id for e in history} == {"ada"}
    assert {e.reason for e in history} == {None}
    assert model.user_id == "ada"
