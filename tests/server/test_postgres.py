"""The main flows again with the server over PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal

from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore

from .conftest import API, ApiClient, assert_error, create_experiment, create_run

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(
    postgres_uri: str, artifacts_root: Path, portal: BlockingPortal
) -> Iterator[ApiClient]:
    store = SqlStore(postgres_uri, "mlflow-artifacts:/")
    client = ApiClient(
        create_app(store, artifacts_destination=str(artifacts_root)), portal
    )
    yield client
    client.close()
    store.close()


def test_tracking_flow_on_postgres(pg_client: ApiClient) -> None:
    experiment_id = create_experiment(pg_client, "pg")
    run_id = create_run(pg_client, experiment_id)

    logged = pg_client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "loss", "value": v, "timestamp": 1, "step": s}
                for s, v in enumerate([0.9, 0.5, 0.1])
            ],
            "params": [{"key": "lr", "value": "0.1"}],
        },
    )
    found = pg_client.post(
        f"{API}/runs/search",
        json={"experiment_ids": [experiment_id], "filter": "metrics.loss < 0.2"},
    ).json()
    history = pg_client.get(
        f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
    ).json()

    assert logged.json() == {}
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    assert [m["value"] for m in history["metrics"]] == [0.9, 0.5, 0.1]


def test_errors_on_postgres(pg_client: ApiClient) -> None:
    create_experiment(pg_client, "dup")
    run_id = create_run(pg_client)
    pg_client.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"}
    )

    duplicate = pg_client.post(f"{API}/experiments/create", json={"name": "dup"})
    changed = pg_client.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "2"}
    )
    missing = pg_client.get(f"{API}/runs/get", params={"run_id": "e" * 32})

    assert_error(duplicate, 400, "RESOURCE_ALREADY_EXISTS")
    assert_error(changed, 400, "INVALID_PARAMETER_VALUE")
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
