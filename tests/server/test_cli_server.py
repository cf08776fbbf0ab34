"""``kiln server`` as users start it: a real process on a free port."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kiln.cli.main import cli
from kiln.cli.server import _allowed_hosts

from .processes import running_server

# Users are promised /health within 2 s of launch on a fresh database (about
# 0.4-0.6 s on an idle machine); a test machine busy with other suites gets
# generous slack so the check stays meaningful without being flaky.
START_BUDGET_SECONDS = 10.0


def test_kiln_server_answers_health_quickly_on_a_fresh_database(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path) as (base_url, elapsed):
        created = httpx.post(
            f"{base_url}/api/2.0/mlflow/experiments/create", json={"name": "cli"}
        )

    assert elapsed < START_BUDGET_SECONDS
    assert created.json() == {"experiment_id": "1"}
    assert (tmp_path / "kiln.db").exists()


@pytest.mark.slow
def test_kiln_server_with_several_workers(tmp_path: Path) -> None:
    with running_server(tmp_path, "--workers", "2") as (base_url, _):
        answers = {
            httpx.get(
                f"{base_url}/api/2.0/mlflow/experiments/get",
                params={"experiment_id": "0"},
            ).json()["experiment"]["name"]
            for _ in range(4)
        }

    assert answers == {"Default"}


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


def test_kiln_server_refuses_an_unsupported_destination_in_one_line(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'kiln.db'}",
            "--artifacts-destination",
            "gs://bucket/artifacts",
        ],
    )

    assert result.exit_code == 1
    assert "'gs'" in result.output
    assert not (tmp_path / "kiln.db").exists()
