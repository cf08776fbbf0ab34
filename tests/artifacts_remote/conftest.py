"""A Kiln server on a loopback port, run by uvicorn in a thread of the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import uvicorn

from kiln.server.app import create_app
from kiln.store.sql.store import SqlStore
from kiln.tracking.stores import clear_stores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LiveServer(NamedTuple):
    url: str
    artifacts: Path


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A Kiln server proxying artifacts to ``tmp_path/artifacts``."""
    store = SqlStore(f"sqlite:///{tmp_path / 'server.db'}", "mlflow-artifacts:/")
    artifacts = tmp_path / "artifacts"
    app = create_app(store, artifacts_destination=str(artifacts))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("The Kiln server did not start.")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", artifacts)
    finally:
        clear_stores()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
