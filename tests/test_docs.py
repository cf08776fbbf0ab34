"""The documentation keeps up with the code.

Every ``kiln`` command and every environment variable Kiln reads must be
named in the README or under ``docs/``; the README's first commands and its
Python quick start must work as written.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from kiln.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOC_FILES = [README, *sorted((ROOT / "docs").glob("*.md"))]

_FULL_NAME = re.compile(r"^(?:KILN|MLFLOW)_[A-Z][A-Z0-9_]*$")
_SUFFIX = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_PREFIXES = {"KILN_", "MLFLOW_"}


def _documentation() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOC_FILES)


def _commands(group: click.Group, path: str) -> list[str]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        full = f"{path} {name}"
        found.append(full)
        if isinstance(command, click.Group):
            found.extend(_commands(command, full))
    return found


def _strings(tree: ast.AST) -> list[str]:
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _call_arguments(tree: ast.AST) -> list[str]:
    return [
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]


def _environment_variables() -> list[str]:
    """Names of KILN_/MLFLOW_ variables the package reads.

    Full names written as strings count, and so do the suffixes a module
    passes to its own lookup when it joins them to a ``"KILN_"`` prefix.
    """
    names: set[str] = set()
    for path in sorted((ROOT / "kiln").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        strings = _strings(tree)
        names.update(s for s in strings if _FULL_NAME.match(s))
        if _PREFIXES & set(strings):
            suffixes = [s for s in _call_arguments(tree) if _SUFFIX.match(s)]
            names.update(f"KILN_{suffix}" for suffix in suffixes)
    return sorted(names)


@pytest.mark.parametrize("command", _commands(cli, "kiln"))
def test_every_cli_command_is_documented(command: str) -> None:
    assert command in _documentation(), f"Document `{command}` in README or docs/."


@pytest.mark.parametrize("variable", _environment_variables())
def test_every_environment_variable_is_documented(variable: str) -> None:
    assert re.search(rf"\b{variable}\b", _documentation()), (
        f"Document the environment variable {variable} in README or docs/."
    )


def test_the_variables_found_include_the_tracking_uri() -> None:
    # Guards the scan itself: if it found nothing, the test above would pass.
    assert {"KILN_TRACKING_URI", "MLFLOW_TRACKING_URI"} <= set(_environment_variables())


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_opens_with_the_run_and_test_commands() -> None:
    first_block = _code_blocks(README.read_text(encoding="utf-8"), "sh")[0]

    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert [c for c in commands if c] == ["./scripts/run", "./scripts/test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert ci.rstrip().splitlines()[-1] == "./scripts/test"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KILN_", "MLFLOW_"))
    }
    env["HOME"] = str(tmp_path)
    return env


@pytest.mark.parametrize("name", ["README.md", "docs/tracking.md"])
def test_python_examples_in_the_docs_run(name: str, tmp_path: Path) -> None:
    blocks = _code_blocks((ROOT / name).read_text(encoding="utf-8"), "python")
    script = tmp_path / "examples_from_docs.py"
    script.write_text("\n".join(blocks), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert blocks
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kiln-data" / "kiln.db").is_file()


def test_quickstart_example_logs_runs_and_says_where(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "Logged 3 runs to experiment 'quickstart'" in done.stdout
    assert "sqlite:///kiln-data/kiln.db" in done.stdout
    assert "runs describe --run-id" in done.stdout
    assert (tmp_path / "kiln-data" / "kiln.db").is_file()


def _install_with(python: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env(tmp_path)
    env["PYTHON"] = python
    return subprocess.run(
        [str(ROOT / "scripts" / "install")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_install_refuses_a_python_older_than_3_11(tmp_path: Path) -> None:
    old_python = tmp_path / "python3.10"
    old_python.write_text(
        "#!/bin/sh\n"
        'case "$2" in\n'
        "  *version_info*) exit 1 ;;\n"
        "  *python_version*) echo 3.10.4 ;;\n"
        "esac\n"
    )
    old_python.chmod(0o755)

    done = _install_with(str(old_python), tmp_path)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"scripts/install: Kiln needs Python 3.11 or newer, but '{old_python}' "
        "is 3.10.4 (set PYTHON=/path/to/python3.11)."
    ]


def test_install_says_when_python_is_missing(tmp_path: Path) -> None:
    done = _install_with("no-such-python3", tmp_path)

    assert done.returncode == 1
    assert "'no-such-python3' not found" in done.stderr
