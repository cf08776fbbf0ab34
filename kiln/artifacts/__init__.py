"""Artifact repositories: local folders, S3 and the server's proxy.

:func:`get_repository` picks the implementation from a root URI's scheme.
Each scheme maps to a factory in ``_FACTORIES``; a new backend adds one entry
(importing its module lazily, so optional dependencies load only when used).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kiln.artifacts.base import Repository
from kiln.artifacts.local import LocalRepository
from kiln.artifacts.paths import (
    join_safely,
    local_path_from_uri,
    normalize_artifact_path,
)
from kiln.errors import NotImplementedFeature

if TYPE_CHECKING:
    from kiln.store.rest.http import RestClient

__all__ = [
    "LocalRepository",
    "Repository",
    "RepositoryOptions",
    "get_repository",
    "join_safely",
    "local_path_from_uri",
    "normalize_artifact_path",
]


@dataclass(frozen=True, slots=True)
class RepositoryOptions:
    """What a repository may need besides its root URI.

    ``tracking_uri`` and ``http`` name the tracking server that produced the
    run: ``mlflow-artifacts:/`` roots resolve against it, and ``http`` (the
    REST store's client) lends its pooled connections, credentials and retries.
    """

    tracking_uri: str | None = None
    http: RestClient | None = None


RepositoryFactory = Callable[[str, RepositoryOptions], Repository]


def _local(uri: str, options: RepositoryOptions) -> Repository:
    return LocalRepository(uri)


def _proxy(uri: str, options: RepositoryOptions) -> Repository:
    from kiln.artifacts.http import open_proxy_repository

    return open_proxy_repository(uri, options.tracking_uri, options.http)


def _s3(uri: str, options: RepositoryOptions) -> Repository:
    from kiln.artifacts.s3 import S3Repository

    return S3Repository(uri)


_FACTORIES: dict[str, RepositoryFactory] = {
    "": _local,
    "file": _local,
    "mlflow-artifacts": _proxy,
    "http": _proxy,
    "https": _proxy,
    "s3": _s3,
}


def _scheme_of(uri: str) -> str:
    scheme = urlsplit(uri).scheme.lower()
    # "C:\\runs" parses with scheme "c": a Windows drive, so a local path.
    return "" if len(scheme) == 1 else scheme


def get_repository(
    uri: str, *, tracking_uri: str | None = None, http: RestClient | None = None
) -> Repository:
    """Return the repository rooted at ``uri``.

    Local paths and ``file:`` URIs give a :class:`LocalRepository`; ``s3://``
    an S3 repository; ``mlflow-artifacts:`` and ``http(s)://`` proxy URLs a
    repository talking to the tracking server's artifact proxy, which
    ``tracking_uri`` or ``http`` name (see :class:`RepositoryOptions`).
    Raises :class:`~kiln.errors.NotImplementedFeature` naming the scheme for
    any other kind of URI.
    """
    scheme = _scheme_of(uri)
    factory = _FACTORIES.get(scheme)
    if factory is None:
        raise NotImplementedFeature(
            f"Artifact URIs with scheme {scheme!r} are not supported yet; use a "
            "local path, a 'file:', 's3:' or 'mlflow-artifacts:' URI."
        )
    return factory(uri, RepositoryOptions(tracking_uri, http))
