"""The environment files next to a model: what to install to run it.

``requirements.txt`` lists pinned pip requirements; ``python_env.yaml`` and
``conda.yaml`` wrap it for virtualenv and conda users. Requirements are
inferred from the flavor's libraries plus the top-level imports of the
module defining a custom model (read with :mod:`ast`, never executed).
``pip_requirements`` replaces the inferred list; ``extra_pip_requirements``
adds to it, replacing an inferred pin of the same package.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import inspect
import platform
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

__all__ = [
    "CONDA_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "imported_distributions",
    "pinned",
    "resolve_requirements",
    "write_environment",
]

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"


def pinned(distribution: str) -> str | None:
    """``name==version`` for an installed distribution, None if not installed.

    A local version label (``2.13.0+cpu``) is dropped: package indexes do not
    serve local builds, so the pin names the public release.
    """
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    return f"{distribution}=={version.split('+')[0]}"


def imported_distributions(obj: object) -> list[str]:
    """Distributions the source module of ``obj``'s class imports at top level.

    Only modules that live in a file are read; the standard library, Kiln and
    modules installed by no distribution (local code) are left out.
    """
    module = inspect.getmodule(type(obj))
    source_file = getattr(module, "__file__", None)
    if source_file is None or not source_file.endswith(".py"):
        return []
    try:
        tree = ast.parse(Path(source_file).read_text())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    owners = _owners()
    found: list[str] = []
    for name in sorted(_top_level_imports(tree)):
        if name in sys.stdlib_module_names or name == "kiln":
            continue
        for distribution in owners.get(name, []):
            if distribution not in found:
                found.append(distribution)
    return found


@functools.cache
def _owners() -> dict[str, list[str]]:
    # Walks every installed distribution's file list, so it is read once.
    return dict(importlib.metadata.packages_distributions())


def _top_level_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _package_of(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    name = match.group(0) if match else requirement.strip()
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve_requirements(
    distributions: Iterable[str],
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
) -> list[str]:
    """The requirement lines to write, Kiln itself first."""
    if pip_requirements is not None:
        lines = list(pip_requirements)
    else:
        lines = [
            pin
            for pin in (pinned(d) for d in ["kiln-ml", *distributions])
            if pin is not None
        ]
    extras = list(extra_pip_requirements or [])
    replaced = {_package_of(line) for line in extras}
    lines = [line for line in lines if _package_of(line) not in replaced]
    unique: list[str] = []
    for line in [*lines, *extras]:
        if line not in unique:
            unique.append(line)
    return unique


def write_environment(folder: Path, requirements: Sequence[str]) -> dict[str, str]:
    """Write the three environment files; return the ``env`` flavor config."""
    python = platform.python_version()
    (folder / REQUIREMENTS_FILE).write_text("".join(f"{r}\n" for r in requirements))
    build = [pinned("pip") or "pip", pinned("setuptools") or "setuptools", "wheel"]
    python_env = {
        "python": python,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (folder / PYTHON_ENV_FILE).write_text(yaml.safe_dump(python_env, sort_keys=False))
    conda = {
        "name": "kiln-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": list(requirements)}],
    }
    (folder / CONDA_FILE).write_text(yaml.safe_dump(conda, sort_keys=False))
    return {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}
