from __future__ import annotations

import subprocess
import sys

import click
import pytest

from kiln.cli import main

from .helpers import Invoke, one_error_line, run_plain

GROUPS = ["artifacts", "db", "experiments", "runs"]


def test_help_lists_every_command_group() -> None:
    result = run_plain("--help")

    assert result.exit_code == 0
    for name in GROUPS:
        assert f"  {name} " in result.stdout


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    result = run_plain("--version")

    assert result.exit_code == 0
    assert result.stdout.strip() == f"kiln {version('kiln-ml')}"


def _leaf_commands() -> list[list[str]]:
    paths = []
    group = main.cli
    ctx = click.Context(group)
    for name in GROUPS:
        sub = group.get_command(ctx, name)
        assert isinstance(sub, click.Group)
        for leaf in sub.list_commands(ctx):
            paths.append([name, leaf])
    return paths


@pytest.mark.parametrize("path", [[g] for g in GROUPS] + _leaf_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(path: list[str]) -> None:
    result = run_plain(*path, "--help")

    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert f"kiln {' '.join(path)}" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nope"], "kiln: No such command 'nope'. See 'kiln --help'."),
        (["--bogus"], "kiln: No such option '--bogus'."),
        (["runs", "list"], "kiln: Missing option '--experiment-id'."),
        (["experiments", "search", "-v", "some"], "kiln: Invalid value for '-v'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_status_2(
    args: list[str], expected: str
) -> None:
    result = run_plain(*args)

    assert result.exit_code == 2
    assert one_error_line(result).startswith(expected)
    assert result.stdout == ""


def test_kiln_errors_are_one_line_with_exit_status_1(kiln: Invoke) -> None:
    result = kiln("experiments", "get", "-x", "424242")

    assert result.exit_code == 1
    line = one_error_line(result)
    assert "424242" in line


def test_group_without_a_command_shows_its_help() -> None:
    result = run_plain("experiments")

    assert "Usage: kiln experiments" in result.output
    assert "search" in result.output


def test_commands_whose_module_is_missing_are_not_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = dict(main._COMMANDS)
    commands["later"] = ("kiln.cli.not_written_yet", "later", "Arrives later.")
    monkeypatch.setattr(main, "_COMMANDS", commands)

    listing = run_plain("--help")
    invoked = run_plain("later")

    assert "later" not in listing.stdout
    assert listing.exit_code == 0
    assert invoked.exit_code == 2
    assert one_error_line(invoked).startswith("kiln: No such command 'later'.")


def test_server_is_listed_exactly_when_its_module_exists() -> None:
    exists = main._module_exists("server")

    result = run_plain("--help")

    assert ("  server " in result.stdout) is exists


def test_a_command_module_needing_a_missing_package_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = dict(main._COMMANDS)
    commands["server"] = ("kiln.cli.needs_missing", "server", "Needs a package.")
    monkeypatch.setattr(main, "_COMMANDS", commands)
    monkeypatch.setattr(main, "_module_exists", lambda name: True)

    def refuse(name: str) -> None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    monkeypatch.setattr(main.importlib, "import_module", refuse)

    result = run_plain("server")

    assert result.exit_code == 1
    line = one_error_line(result)
    assert "uvicorn" in line
    assert "pip install 'kiln-ml[server]'" in line


@pytest.mark.parametrize(
    ("package", "hint"),
    [
        ("psycopg", ". Install it with: pip install 'kiln-ml[postgres]'."),
        ("leftpad", "'leftpad')."),
    ],
)
def test_a_package_missing_while_running_fails_in_one_line(
    kiln: Invoke, monkeypatch: pytest.MonkeyPatch, package: str, hint: str
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)

    monkeypatch.setattr("kiln.cli.state.CliState.client", refuse)

    result = kiln("experiments", "search")

    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"No module named {package!r}" in line
    assert line.endswith(hint)


def test_help_imports_neither_the_store_nor_the_server() -> None:
    code = (
        "import sys\n"
        "from kiln.cli.main import cli\n"
        "cli(['--help'], standalone_mode=False)\n"
        "cli(['runs', '--help'], standalone_mode=False)\n"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'httpx') "
        "if m in sys.modules]\n"
        "print('heavy:', ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert done.stdout.splitlines()[-1] == "heavy: "


@pytest.mark.parametrize("variable", ["KILN_TRACKING_URI", "MLFLOW_TRACKING_URI"])
def test_tracking_uri_comes_from_the_environment(
    variable: str, tracking_uri: str
) -> None:
    created = run_plain(
        "experiments", "create", "-n", "from-env", env={variable: tracking_uri}
    )
    found = run_plain(
        "--tracking-uri", tracking_uri, "experiments", "get", "-n", "from-env"
    )

    assert created.exit_code == 0, created.output
    assert found.exit_code == 0, found.output


def test_kiln_tracking_uri_wins_over_mlflow_tracking_uri(
    tracking_uri: str, tmp_path: object
) -> None:
    other = tracking_uri.replace("kiln.db", "other.db")
    env = {"KILN_TRACKING_URI": tracking_uri, "MLFLOW_TRACKING_URI": other}

    run_plain("experiments", "create", "-n", "where", env=env)
    in_kiln = run_plain(
        "--tracking-uri", tracking_uri, "experiments", "get", "-n", "where"
    )
    in_other = run_plain("--tracking-uri", other, "experiments", "get", "-n", "where")

    assert in_kiln.exit_code == 0
    assert in_other.exit_code == 1
