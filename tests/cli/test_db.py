from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln.cli.db import redact
from kiln.tracking.client import KilnClient

from .helpers import one_error_line, run_plain


def test_upgrade_creates_a_usable_database(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"

    result = run_plain("db", "upgrade", uri)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"The database at {uri} is up to date.\n"
    assert KilnClient(tracking_uri=uri).get_experiment("0").name == "Default"


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'twice.db'}"
    run_plain("db", "upgrade", uri)
    experiment_id = KilnClient(tracking_uri=uri).create_experiment("kept")

    result = run_plain("db", "upgrade", uri, "--output", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"uri": uri, "upgraded": True}
    assert KilnClient(tracking_uri=uri).get_experiment(experiment_id).name == "kept"


def test_upgrade_needs_a_uri() -> None:
    result = run_plain("db", "upgrade")

    assert result.exit_code == 2
    assert "URI" in one_error_line(result)


def test_upgrade_of_an_unsupported_uri_fails_in_one_line() -> None:
    result = run_plain("db", "upgrade", "mysql://nobody@localhost/kiln")

    assert result.exit_code == 1
    one_error_line(result)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///kiln-data/kiln.db", "sqlite:///kiln-data/kiln.db"),
        ("postgresql://kiln@db:5432/kiln", "postgresql://kiln@db:5432/kiln"),
        (
            "postgresql://kiln:s3cret@db:5432/kiln?sslmode=require",
            "postgresql://kiln:***@db:5432/kiln?sslmode=require",
        ),
        ("postgresql+psycopg://u:p@db/kiln", "postgresql+psycopg://u:***@db/kiln"),
    ],
)
def test_redact_hides_only_the_password(uri: str, expected: str) -> None:
    assert redact(uri) == expected
