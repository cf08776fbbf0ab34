"""The stock ``mlflow`` client logs and loads models through ``kiln server``.

MLflow 3 logs a model as a logged model (``/mlflow/logged-models``) and
resolves ``runs:/<run>/<name>`` and ``models:/<model_id>`` through it; 2.x
clients put the files under the run and call ``runs/log-model``. The client
runs in its own environment (see ``tests/conftest.py``), since Kiln never
imports mlflow. Kiln's own REST store is checked against the same server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.entities import LoggedModelParam, LoggedModelStatus, LoggedModelTag
from kiln.errors import ResourceDoesNotExist
from kiln.store.rest import RestStore

from .processes import run_mlflow_client, running_server

FLOW = Path(__file__).with_name("scripts") / "mlflow_log_model_flow.py"

pytestmark = pytest.mark.slow


def test_mlflow_client_logs_and_loads_models_through_kiln(
    tmp_path: Path, mlflow_python: str
) -> None:
    with running_server(tmp_path) as (base_url, _):
        result = run_mlflow_client(mlflow_python, str(FLOW), base_url, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "COMPAT-OK" in result.stdout


def test_rest_store_drives_logged_models_on_a_kiln_server(tmp_path: Path) -> None:
    with running_server(tmp_path) as (base_url, _), RestStore(base_url) as store:
        created = store.create_logged_model(
            "0",
            "model",
            tags=[LoggedModelTag("a/b", "1")],
            params=[LoggedModelParam("lr", "0.1")],
            model_type="sklearn",
        )
        model_id = created.model_id
        assert created.status == LoggedModelStatus.PENDING
        assert created.artifact_location == (
            f"mlflow-artifacts:/0/models/{model_id}/artifacts"
        )

        ready = store.finalize_logged_model(model_id, LoggedModelStatus.READY)
        assert ready.status == LoggedModelStatus.READY
        store.set_logged_model_tags(model_id, [LoggedModelTag("b", "2")])
        store.delete_logged_model_tag(model_id, "a/b")
        store.log_logged_model_params(model_id, [LoggedModelParam("depth", "3")])
        fetched = store.get_logged_model(model_id)
        assert fetched.tags == {"b": "2"}
        assert fetched.params == {"depth": "3", "lr": "0.1"}

        page = store.search_logged_models(["0"], "name = 'model'", max_results=1)
        assert [m.model_id for m in page] == [model_id]

        store.delete_logged_model(model_id)
        with pytest.raises(ResourceDoesNotExist):
            store.get_logged_model(model_id)
        assert store.get_logged_model(model_id, allow_deleted=True).model_id == model_id
