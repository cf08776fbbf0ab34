"""Turn a model URI into a local model folder.

Local paths and ``file:`` URIs are used where they are. ``models:/<model_id>``
names a logged model; ``models:/<name>/<version>``, ``/<stage>``, ``/latest``
and ``models:/<name>@<alias>`` a registered model's version, whose files are
where the registry's download URI says; ``runs:/<run_id>/<name>`` the run's
logged model called ``name``, else the folder ``name`` of the run's
artifacts (the layout before logged models); ``mlflow-artifacts:/``,
``s3://`` and ``http(s)://`` URIs name artifact folders directly. Remote
folders are downloaded once into a local cache (``$KILN_MODEL_CACHE``, default
``~/.cache/kiln/models``) keyed by the resolved artifact URI, since logged
model files are never rewritten; a download lands in a temporary folder that
is renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.models.model import MLMODEL_FILE

if TYPE_CHECKING:
    from kiln.tracking.client import KilnClient

__all__ = ["cache_folder", "download_model"]

_LOCAL_SCHEMES = ("", "file")


def cache_folder() -> Path:
    """Where downloaded models are kept."""
    configured = os.environ.get("KILN_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "kiln" / "models"


def _scheme(uri: str) -> str:
    scheme = urlsplit(uri).scheme.lower()
    return "" if len(scheme) == 1 else scheme  # a Windows drive letter


def download_model(model_uri: str) -> Path:
    """The local folder holding the model ``model_uri`` names.

    Raises ResourceDoesNotExist when nothing is there, NotImplementedFeature
    for other registries (``models://<profile>@…``) and unsupported schemes.
    """
    if not isinstance(model_uri, str | os.PathLike) or not str(model_uri):
        raise InvalidParameterValue(
            f"A model URI must be a non-empty string, got {model_uri!r}."
        )
    uri = os.fspath(model_uri)
    scheme = _scheme(uri)
    if scheme in _LOCAL_SCHEMES:
        return _local_folder(uri)
    if scheme == "runs":
        return _run_folder(uri)
    if scheme == "models":
        return _logged_model_folder(uri)
    return _cached(uri)


def _logged_model_folder(uri: str) -> Path:
    from kiln.tracking.client import KilnClient
    from kiln.tracking.registry import model_version_for_uri

    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    client = KilnClient()
    # A single segment is a logged model id (MLflow 3); name/version, stages,
    # aliases and other registries belong to the model registry.
    if parts.netloc or len(segments) != 1 or "@" in segments[0]:
        version = model_version_for_uri(client, uri)
        location = client.get_model_version_download_uri(version.name, version.version)
        return _artifact_folder(location)
    logged = client.store.get_logged_model(segments[0])
    return _artifact_folder(logged.artifact_location)


def _artifact_folder(location: str) -> Path:
    if _scheme(location) in _LOCAL_SCHEMES:
        return _local_folder(location)
    return _cached(location)


def _local_folder(uri: str) -> Path:
    from kiln.artifacts import local_path_from_uri

    path = local_path_from_uri(uri) if uri.startswith("file:") else Path(uri)
    if not path.exists():
        raise ResourceDoesNotExist(
            f"No model at {uri!r}; check the path or URI for typos."
        )
    return path


def _run_folder(uri: str) -> Path:
    from kiln.tracking.client import KilnClient

    parts = urlsplit(uri)
    # runs:/<id>/<path> parses with the id in the path; runs://<id>/… in netloc.
    segments = [s for s in f"{parts.netloc}/{parts.path}".split("/") if s]
    if len(segments) < 2:
        raise InvalidParameterValue(
            f"Model URI {uri!r} must look like runs:/<run_id>/<artifact_path>."
        )
    run_id, artifact_path = segments[0], "/".join(segments[1:])
    client = KilnClient()
    logged = _run_logged_model(client, run_id, artifact_path)
    if logged is not None:
        return _artifact_folder(logged)
    location = client.get_artifact_uri(run_id, artifact_path)
    if _scheme(location) in _LOCAL_SCHEMES:
        return _local_folder(location)
    return _cached(
        location,
        lambda staging: client.download_artifacts(run_id, artifact_path, staging),
    )


def _run_logged_model(client: KilnClient, run_id: str, name: str) -> str | None:
    """The artifact location of the run's output model called ``name``."""
    outputs = client.get_run(run_id).outputs.model_outputs
    for output in outputs:
        try:
            logged = client.store.get_logged_model(output.model_id)
        except ResourceDoesNotExist:
            continue  # deleted since; the run still lists it
        if logged.name == name:
            return logged.artifact_location
    return None


def _cached(location: str, fetch: Callable[[Path], str] | None = None) -> Path:
    """The cached copy of the model folder at ``location``, downloading it
    with ``fetch(staging_folder)`` (by default from its artifact store) on
    first use."""
    key = hashlib.sha256(location.encode()).hexdigest()[:32]
    target = cache_folder() / key
    if (target / MLMODEL_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        landed = Path(fetch(staging) if fetch else _download(location, staging))
        if not (landed / MLMODEL_FILE).is_file():
            raise ResourceDoesNotExist(
                f"No {MLMODEL_FILE} file at {location!r}; the URI must name the "
                "folder log_model uploaded."
            )
        try:
            landed.rename(target)
        except OSError:
            # Another process finished the same download first.
            if not (target / MLMODEL_FILE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download(location: str, staging: Path) -> str:
    from kiln.artifacts import get_repository
    from kiln.tracking.config import get_tracking_uri

    root, _, name = location.rstrip("/").rpartition("/")
    if not name or not root:
        raise InvalidParameterValue(
            f"Model URI {location!r} must name a folder below an artifact root."
        )
    repository = get_repository(root, tracking_uri=get_tracking_uri())
    return repository.download_artifacts(name, staging)
