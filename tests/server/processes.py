"""Start ``kiln server`` as a real process for tests that need one, and run
the stock ``mlflow`` client against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[bytes]) -> float:
    """Poll ``url`` until it answers OK; return the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else b""
            pytest.fail(f"kiln server exited early: {output.decode()}")
        try:
            if httpx.get(url, timeout=0.5).text == "OK":
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.02)
    pytest.fail("kiln server did not answer /health within 30 s")


@contextmanager
def running_server(folder: Path, *options: str) -> Iterator[tuple[str, float]]:
    """Run ``kiln server`` over a fresh SQLite file in ``folder``.

    Yields the base URL and the seconds from launch to the first healthy
    answer; stops the server (SIGINT, as Ctrl+C) on exit.
    """
    port = free_port()
    kiln = Path(sys.executable).with_name("kiln")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    command = [
        str(kiln),
        "server",
        "--backend-store-uri",
        f"sqlite:///{folder / 'kiln.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--port",
        str(port),
        *options,
    ]
    started = time.monotonic()
    with subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for_health(f"{base_url}/health", process)
            yield base_url, time.monotonic() - started
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=15)


def run_mlflow_client(
    mlflow_python: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (a script and its arguments) with the stock mlflow's
    Python, its output captured; the client's own retries are off, so a
    refused call fails at once, and ``env`` adds to the environment."""
    return subprocess.run(
        [mlflow_python, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", **(env or {})},
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
