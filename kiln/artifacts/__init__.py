"""Artifact repositories: local folders, S3 and the server's proxy.

:func:`get_repository` picks the implementation from a root URI's scheme.
Each scheme maps to a factory in ``_FACTORIES``; a new backend adds one entry
(importing its module lazily, so optional dependencies load only when used).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from kiln.artifacts.base import Repository
from kiln.artifacts.local import LocalRepository
from kiln.artifacts.paths import (
    join_safely,
    local_path_from_uri,
    normalize_artifact_path,
)
from kiln.errors import NotImplementedFeature

__all__ = [
    "LocalRepository",
    "Repository",
    "get_repository",
    "join_safely",
    "local_path_from_uri",
    "normalize_artifact_path",
]

RepositoryFactory = Callable[[str], Repository]

# TODO: "s3" (direct S3 access) and "mlflow-artifacts"/"http"/"https" (the
# server's artifact proxy) have no factory yet; get_repository refuses them
# with NotImplementedFeature meanwhile.
_FACTORIES: dict[str, RepositoryFactory] = {
    "": LocalRepository,
    "file": LocalRepository,
}


def _scheme_of(uri: str) -> str:
    scheme = urlsplit(uri).scheme.lower()
    # "C:\\runs" parses with scheme "c": a Windows drive, so a local path.
    return "" if len(scheme) == 1 else scheme


def get_repository(uri: str) -> Repository:
    """Return the repository rooted at ``uri``.

    Local paths and ``file:`` URIs give a :class:`LocalRepository`. Raises
    :class:`~kiln.errors.NotImplementedFeature` naming the scheme for any
    other kind of URI.
    """
    scheme = _scheme_of(uri)
    factory = _FACTORIES.get(scheme)
    if factory is None:
        raise NotImplementedFeature(
            f"Artifact URIs with scheme {scheme!r} are not supported yet; "
            "use a local path or a 'file:' URI."
        )
    return factory(uri)
