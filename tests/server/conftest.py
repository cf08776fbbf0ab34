"""An in-process Kiln server over a fresh SQLite store, one per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from anyio.from_thread import BlockingPortal

from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore

BASE_URL = "http://localhost:5000"
API = "/api/2.0/mlflow"


class ApiClient:
    """A synchronous client calling the ASGI app in-process.

    Requests run on an event loop in a helper thread (an anyio blocking
    portal), through httpx's ASGI transport, so tests stay plain functions.
    """

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self.app = app
        self._portal = portal
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)

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


MakeClient = Callable[..., ApiClient]


@pytest.fixture
def artifacts_root(tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database, built once and copied by each test."""
    path = tmp_path_factory.mktemp("template") / "kiln.db"
    SqlStore(f"sqlite:///{path}", "mlflow-artifacts:/").close()
    return path


@pytest.fixture
def sql_store(tmp_path: Path, template_db: Path) -> Iterator[SqlStore]:
    path = tmp_path / "kiln.db"
    shutil.copyfile(template_db, path)
    store = SqlStore(f"sqlite:///{path}", "mlflow-artifacts:/")
    yield store
    store.close()


@pytest.fixture(scope="session")
def portal() -> Iterator[BlockingPortal]:
    """One event loop in a helper thread, shared by every test client."""
    with anyio.from_thread.start_blocking_portal() as running:
        yield running


@pytest.fixture
def make_client(
    sql_store: SqlStore, artifacts_root: Path, portal: BlockingPortal
) -> Iterator[MakeClient]:
    """Build a test client; keyword arguments go to ``create_app``."""
    clients: list[ApiClient] = []

    def make(**options: Any) -> ApiClient:
        options.setdefault("artifacts_destination", str(artifacts_root))
        store = options.pop("store", sql_store)
        app = create_app(store, **options)
        client = ApiClient(app, portal)
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


def send_raw(
    app: Any,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    disconnect: bool = False,
) -> tuple[int, bytes]:
    """Call the ASGI app with ``path`` exactly as given (no URL normalising),
    as a hostile client could send it; return the status and body.

    With ``disconnect`` the client goes away after sending ``body``, in the
    middle of the request.
    """
    all_headers = {"host": "localhost:5000", **(headers or {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("latin-1", "backslashreplace"),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in all_headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 5000),
    }
    messages = [{"type": "http.request", "body": body, "more_body": disconnect}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    return status, content
