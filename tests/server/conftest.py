"""An in-process Kiln server over a fresh SQLite store, one per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore

BASE_URL = "http://localhost:5000"
API = "/api/2.0/mlflow"


class ApiClient:
    """A synchronous client calling the ASGI app in-process.

    Requests run on an event loop in a helper thread (an anyio blocking
    portal), through httpx's ASGI transport, so tests stay plain functions.
    """

    def __init__(self, app: Any, base_url: str = BASE_URL) -> None:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(lambda: self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._portal_cm.__exit__(None, None, None)


MakeClient = Callable[..., ApiClient]


@pytest.fixture
def artifacts_root(tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    return root


@pytest.fixture
def sql_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'kiln.db'}", "mlflow-artifacts:/")
    yield store
    store.close()


@pytest.fixture
def make_client(sql_store: SqlStore, artifacts_root: Path) -> Iterator[MakeClient]:
    """Build a test client; keyword arguments go to ``create_app``."""
    clients: list[ApiClient] = []

    def make(**options: Any) -> ApiClient:
        options.setdefault("artifacts_destination", str(artifacts_root))
        store = options.pop("store", sql_store)
        app = create_app(store, **options)
        client = ApiClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> ApiClient:
    return make_client()


def create_experiment(client: ApiClient, name: str = "exp", **fields: Any) -> str:
    response = client.post(f"{API}/experiments/create", json={"name": name, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["experiment_id"])


def create_run(client: ApiClient, experiment_id: str = "0", **fields: Any) -> str:
    body = {"experiment_id": experiment_id, **fields}
    response = client.post(f"{API}/runs/create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["run"]["info"]["run_id"])


def assert_error(response: Any, status: int, error_code: str) -> dict[str, Any]:
    """Check an error answer: its status, JSON body and error code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str) and body["message"]
    return body
