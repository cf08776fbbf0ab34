"""Where tracking data goes: the tracking URI, artifact root and defaults.

Each setting is read from, in order: what the program set explicitly
(:func:`set_tracking_uri`), the ``KILN_*`` environment variable, the
``MLFLOW_*`` variable users of MLflow already export, then Kiln's default.
Nothing here is cached except the explicit choice, so a variable exported
after import still counts.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_TRACKING_URI",
    "ENV_ARTIFACT_ROOT",
    "ENV_EXPERIMENT_ID",
    "ENV_EXPERIMENT_NAME",
    "ENV_RUN_ID",
    "ENV_TRACKING_URI",
    "default_artifact_root",
    "get_tracking_uri",
    "is_remote_uri",
    "read_env",
    "set_tracking_uri",
    "sqlite_path",
]

DEFAULT_TRACKING_URI = "sqlite:///kiln-data/kiln.db"

# Each setting: Kiln's own variable first, then MLflow's name as a fallback.
ENV_TRACKING_URI = ("KILN_TRACKING_URI", "MLFLOW_TRACKING_URI")
ENV_EXPERIMENT_NAME = ("KILN_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
ENV_EXPERIMENT_ID = ("KILN_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")
ENV_RUN_ID = ("KILN_RUN_ID", "MLFLOW_RUN_ID")
ENV_ARTIFACT_ROOT = ("KILN_ARTIFACT_ROOT",)

_explicit_tracking_uri: str | None = None


def read_env(names: tuple[str, ...]) -> str | None:
    """Return the first of ``names`` that is set to a non-empty value."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def set_tracking_uri(uri: str | Path | None) -> None:
    """Choose the tracking store for this process; ``None`` forgets the choice.

    Accepted: ``sqlite:///path.db``, ``postgresql://…`` and ``http(s)://``
    server URLs.
    """
    global _explicit_tracking_uri
    _explicit_tracking_uri = None if uri is None else str(uri)


def get_tracking_uri() -> str:
    """Return the tracking URI in effect: explicit, environment, or default."""
    if _explicit_tracking_uri is not None:
        return _explicit_tracking_uri
    return read_env(ENV_TRACKING_URI) or DEFAULT_TRACKING_URI


def is_remote_uri(uri: str) -> bool:
    """Whether ``uri`` names a tracking server reached over HTTP."""
    return uri.startswith(("http://", "https://"))


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or None for anything else.

    ``sqlite:///rel/x.db`` is relative to the working directory and
    ``sqlite:////abs/x.db`` absolute; in-memory databases have no file.
    """
    parts = urlsplit(uri)
    if parts.scheme != "sqlite" and not parts.scheme.startswith("sqlite+"):
        return None
    path = uri.split("://", 1)[1].split("?", 1)[0]
    if path.startswith("/"):
        path = path[1:]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).resolve()


def default_artifact_root(tracking_uri: str) -> str:
    """The artifact root for new experiments of a local store, as an absolute path.

    ``KILN_ARTIFACT_ROOT`` wins; otherwise artifacts live in ``artifacts``
    beside a SQLite database file, or in ``kiln-data/artifacts`` under the
    working directory for other databases.
    """
    configured = read_env(ENV_ARTIFACT_ROOT)
    if configured is not None:
        # Keep URIs (file:, s3://…) as given; one-letter schemes are
        # Windows drive letters, so those are paths.
        if len(urlsplit(configured).scheme) > 1:
            return configured
        return str(Path(configured).resolve())
    database = sqlite_path(tracking_uri)
    if database is not None:
        return str(database.parent / "artifacts")
    return str(Path("kiln-data", "artifacts").resolve())
