"""``kiln server`` as users start it: a real process on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kiln.cli.server import _allowed_hosts

# Users are promised /health within 2 s of launch on a fresh database (about
# 0.4-0.6 s on an idle machine); a test machine busy with other suites gets
# generous slack so the check stays meaningful without being flaky.
START_BUDGET_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> float:
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


def test_kiln_server_answers_health_quickly_on_a_fresh_database(
    tmp_path: Path,
) -> None:
    port = _free_port()
    kiln = Path(sys.executable).with_name("kiln")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    started = time.monotonic()
    with subprocess.Popen(
        [
            str(kiln),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'kiln.db'}",
            "--artifacts-destination",
            str(tmp_path / "artifacts"),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as process:
        try:
            _wait_for_health(f"http://127.0.0.1:{port}/health", process)
            elapsed = time.monotonic() - started
            created = httpx.post(
                f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/create",
                json={"name": "from-cli"},
            )
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=10)

    assert elapsed < START_BUDGET_SECONDS
    assert created.json() == {"experiment_id": "1"}
    assert (tmp_path / "kiln.db").exists()


@pytest.mark.parametrize(
    ("bind", "configured", "expected"),
    [
        ("127.0.0.1", (), ()),
        ("0.0.0.0", ("a.example.com",), ("a.example.com",)),
        ("10.0.0.5", (), ("10.0.0.5",)),
        ("fd00::5", (), ("[fd00::5]",)),
        ("kiln.internal", ("x",), ("x", "kiln.internal")),
    ],
)
def test_a_specific_bind_address_is_an_allowed_host(
    bind: str, configured: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert _allowed_hosts(bind, configured) == expected
