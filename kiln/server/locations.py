"""Which artifact URIs the server accepts from clients and reads itself.

Clients store URIs (an experiment's ``artifact_location``) that the server
later turns into files it lists and sends. So a stored URI must not name
arbitrary local files, nor a host the server would then contact on a
client's behalf. The rules:

* ``mlflow-artifacts:/<path>`` (no host) lies in the artifact proxy's
  destination folder;
* a local path or ``file:`` URI must lie inside a configured root (the
  artifacts destination, or a local default artifact root);
* any other scheme (``s3:``, ``http:``, ...) is accepted only under a
  configured root of that scheme. The server reads such a location itself
  only when it lies inside its own S3 destination (see
  :mod:`kiln.server.artifact_reads`), never a host or bucket a client named.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from kiln.artifacts.paths import (
    join_safely,
    local_path_from_uri,
    normalize_artifact_path,
)
from kiln.errors import InvalidParameterValue, NotImplementedFeature, PermissionDenied
from kiln.validation import validate_artifact_location

__all__ = ["PROXY_SCHEME", "ArtifactLocations", "scheme_of"]

PROXY_SCHEME = "mlflow-artifacts"


def scheme_of(uri: str) -> str:
    """The lower-case scheme of ``uri``; ``""`` for a local path (``C:\\x`` too)."""
    scheme = urlsplit(uri).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


def _is_within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def proxy_relative_path(uri: str) -> str:
    """The cleaned path inside the proxy destination of ``mlflow-artifacts:/<path>``."""
    parts = urlsplit(uri)
    if parts.netloc:
        raise InvalidParameterValue(
            f"Invalid artifact location {uri!r}; a 'mlflow-artifacts:' URI must not "
            "name a host, use 'mlflow-artifacts:/<path>'."
        )
    if parts.query or parts.fragment:
        raise InvalidParameterValue(
            f"Invalid artifact location {uri!r}; it must carry no query or fragment."
        )
    return normalize_artifact_path(parts.path.lstrip("/"))


class ArtifactLocations:
    """The artifact roots this server is configured with, and checks against them.

    ``destination`` is the artifact proxy's storage (a folder or a remote URI);
    ``default_artifact_root`` is where new experiments go.
    """

    def __init__(self, destination: str, default_artifact_root: str) -> None:
        self.destination = destination
        self.default_artifact_root = default_artifact_root
        roots = (destination, default_artifact_root)
        self.local_roots = [
            Path(os.path.realpath(local_path_from_uri(root)))
            for root in roots
            if scheme_of(root) in ("", "file")
        ]
        self.remote_roots = [
            root.rstrip("/")
            for root in roots
            if scheme_of(root) not in ("", "file", PROXY_SCHEME)
        ]

    def check_stored_location(self, location: str) -> str:
        """Check an ``artifact_location`` a client asks to store; return it.

        Raises :class:`~kiln.errors.InvalidParameterValue` for a location
        outside the configured roots or with a scheme that names a host.
        """
        validate_artifact_location(location)
        scheme = scheme_of(location)
        if scheme == PROXY_SCHEME:
            proxy_relative_path(location)
        elif scheme in ("", "file"):
            self._local_path_within_roots(location)
        elif not self._is_under_remote_root(location):
            raise InvalidParameterValue(
                f"Invalid artifact location {location!r}; {scheme!r} locations are "
                "accepted only under the server's configured artifact roots."
            )
        return location

    def local_root_for(self, artifact_uri: str) -> Path:
        """The local folder holding the artifacts stored at ``artifact_uri``.

        Raises :class:`~kiln.errors.PermissionDenied` for a local URI outside
        the configured roots, and :class:`~kiln.errors.NotImplementedFeature`
        for a remote URI (the server's own S3 destination is read through
        :mod:`kiln.server.artifact_reads` instead).
        """
        scheme = scheme_of(artifact_uri)
        if scheme == PROXY_SCHEME:
            if scheme_of(self.destination) not in ("", "file"):
                # Reached only while the proxy is off: a remote destination
                # is read through the proxy's own storage.
                raise NotImplementedFeature(
                    f"The server reads artifacts from its "
                    f"{scheme_of(self.destination)!r} destination only while it "
                    "serves artifacts; start it with --serve-artifacts."
                )
            destination = local_path_from_uri(self.destination)
            return join_safely(destination, proxy_relative_path(artifact_uri))
        if scheme in ("", "file"):
            try:
                return self._local_path_within_roots(artifact_uri)
            except InvalidParameterValue as exc:
                raise PermissionDenied(exc.message) from exc
        raise NotImplementedFeature(
            f"The server reads {scheme!r} artifact URIs only inside its own "
            "artifact destination; clients read this one directly."
        )

    def _local_path_within_roots(self, location: str) -> Path:
        path = Path(os.path.realpath(local_path_from_uri(location)))
        if not any(_is_within(path, root) for root in self.local_roots):
            raise InvalidParameterValue(
                f"Invalid artifact location {location!r}; local locations must lie "
                "inside the server's artifact roots."
            )
        return path

    def _is_under_remote_root(self, location: str) -> bool:
        if "/../" in f"{location}/" or "/./" in f"{location}/":
            return False
        return any(
            location == root or location.startswith(f"{root}/")
            for root in self.remote_roots
        )
