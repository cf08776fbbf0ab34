"""Helpers shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import CliRunner, Result

from kiln.cli.main import cli

Invoke = Callable[..., Result]


def run_plain(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``kiln ARGS...`` with no global options."""
    return CliRunner().invoke(cli, list(args), env=env)


def one_error_line(result: Result) -> str:
    """The single ``kiln: ...`` line a failed command printed on stderr."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kiln: "), lines[0]
    return lines[0]
