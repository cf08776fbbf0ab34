"""The tags every new run carries: who started it, from which code, at which commit.

These are MLflow's reserved ``mlflow.*`` tags, so the MLflow UI shows the
user, the source and the git commit of Kiln runs. They are worked out once
per process, on the first run, because the answer does not change while the
program runs and reading ``.git`` on every run would be wasted work.
"""

from __future__ import annotations

import functools
import getpass
import os
import sys
from pathlib import Path

from kiln.tracking import gitinfo

__all__ = [
    "TAG_GIT_BRANCH",
    "TAG_GIT_COMMIT",
    "TAG_GIT_REPO_URL",
    "TAG_NOTE",
    "TAG_PARENT_RUN_ID",
    "TAG_RUN_NAME",
    "TAG_SOURCE_NAME",
    "TAG_SOURCE_TYPE",
    "TAG_USER",
    "current_user",
    "default_run_tags",
    "source_tags",
]

TAG_USER = "mlflow.user"
TAG_SOURCE_NAME = "mlflow.source.name"
TAG_SOURCE_TYPE = "mlflow.source.type"
TAG_RUN_NAME = "mlflow.runName"
TAG_PARENT_RUN_ID = "mlflow.parentRunId"
TAG_NOTE = "mlflow.note.content"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_GIT_BRANCH = "mlflow.source.git.branch"
TAG_GIT_REPO_URL = "mlflow.source.git.repoURL"

_SOURCE_LOCAL = "LOCAL"
_SOURCE_NOTEBOOK = "NOTEBOOK"


@functools.cache
def current_user() -> str:
    """The login name of the user running this process, or ``unknown``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # No USER/LOGNAME variable and no passwd entry (some containers).
        return "unknown"


def _in_notebook() -> bool:
    # A Jupyter kernel has loaded ipykernel and gives IPython a kernel.
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and hasattr(shell, "kernel")


def _source() -> tuple[str, str, Path]:
    """The source name, its type and the folder its code lives in."""
    if _in_notebook():
        # Jupyter exports the notebook's path to its kernels since 2022.
        name = os.environ.get("JPY_SESSION_NAME") or "notebook"
        folder = Path(name).parent if os.path.isabs(name) else Path.cwd()
        return name, _SOURCE_NOTEBOOK, folder
    script = sys.argv[0] if sys.argv and sys.argv[0] else "-"
    if os.path.isfile(script):
        path = Path(script).resolve()
        return str(path), _SOURCE_LOCAL, path.parent
    # ``python -c``, a REPL or stdin: the code has no file of its own.
    return script, _SOURCE_LOCAL, Path.cwd()


@functools.cache
def source_tags() -> dict[str, str]:
    """``mlflow.source.*`` tags for this process, git tags included when the
    code lives in a git checkout."""
    name, kind, folder = _source()
    tags = {TAG_SOURCE_NAME: name, TAG_SOURCE_TYPE: kind}
    repo = gitinfo.read_repository(folder)
    if repo is not None:
        tags[TAG_GIT_COMMIT] = repo.commit
        if repo.branch:
            tags[TAG_GIT_BRANCH] = repo.branch
        if repo.remote_url:
            tags[TAG_GIT_REPO_URL] = repo.remote_url
    return tags


def default_run_tags() -> dict[str, str]:
    """Every tag Kiln adds to a new run before the caller's own tags."""
    return {TAG_USER: current_user(), **source_tags()}
