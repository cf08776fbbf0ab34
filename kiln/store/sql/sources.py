"""Check where a new model version's files come from, and resolve where they are.

A version's ``source`` names files the server already knows: a run's
artifacts (``runs:/<run_id>/<path>``, or a URI under the run's artifact
root), a logged model (``models:/m-…``, or a URI under its artifact
location) or another version (``models:/<name>/<version>``). Letting a client
register any local path would let it read any file the server can through
the download URI, so a local or ``mlflow-artifacts:`` source must lie under
the artifact root of the run or logged model the request names. A request
that names a run or logged model gets the same check for any other URI
(``s3://``, ``https://``…), so a version never claims a run it does not come
from; only a remote URI registered without either is taken as it is. Every
form of ``..`` is refused however it is encoded.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from sqlalchemy import Connection, select

from kiln.artifacts.paths import local_path_from_uri, normalize_artifact_path
from kiln.errors import InvalidParameterValue, KilnError, ResourceDoesNotExist
from kiln.store.sql.schema import logged_models, model_versions, runs
from kiln.validation import validate_model_version, validate_run_id

# Sources that name files on the server's own disk or behind its proxy.
_CHECKED_SCHEMES = frozenset({"", "file", "mlflow-artifacts"})
_LOGGED_MODEL_PREFIX = "m-"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# As many rounds as the traversal check decodes before it refuses a path.
_DECODE_ROUNDS = 4


def storage_location(
    connection: Connection, source: str, run_id: str | None, model_id: str | None
) -> str:
    """Check ``source`` against ``run_id`` and ``model_id``; return where the
    version's files are.

    Raises InvalidParameterValue for a source outside the named run's or
    model's artifacts, and ResourceDoesNotExist for an unknown run, model or
    version.
    """
    if not isinstance(source, str) or not source:
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; expected a non-empty URI."
        )
    _refuse_traversal(source)
    run_root = _run_root(connection, run_id) if run_id else None
    model_root = _model_root(connection, model_id) if model_id else None
    scheme = urlsplit(source).scheme.lower()
    if scheme == "runs":
        return _runs_location(connection, source, run_id)
    if scheme == "models":
        return _models_location(connection, source, model_id, model_root)
    roots = [root for root in (run_root, model_root) if root is not None]
    if not roots and scheme not in _CHECKED_SCHEMES and len(scheme) > 1:
        return source
    if not any(_lies_under(source, root) for root in roots):
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; it must lie under the "
            "artifact root of the run_id or model_id given with it (a local or "
            "mlflow-artifacts source needs one of them)."
        )
    return source


def _refuse_traversal(source: str) -> None:
    # Decoding the whole URI as a path catches '..' under any encoding
    # ('%2e%2e', '%252e…'), NUL and control characters.
    parts = urlsplit(source)
    path = parts.path
    if parts.scheme.lower() in ("runs", "models"):
        path = path.lstrip("/")
    try:
        normalize_artifact_path(path.lstrip("/").rstrip("/") or None)
    except InvalidParameterValue as error:
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; {_reason(error)}"
        ) from None


def _reason(error: KilnError) -> str:
    _, _, why = error.message.partition("; ")
    return why or error.message


def _run_root(connection: Connection, run_id: str) -> str:
    validate_run_id(run_id)
    root: str | None = connection.execute(
        select(runs.c.artifact_uri).where(runs.c.run_id == run_id)
    ).scalar()
    if root is None:
        raise ResourceDoesNotExist(f"No run with id {run_id!r} exists.")
    return root


def _model_root(connection: Connection, model_id: str) -> str:
    root: str | None = connection.execute(
        select(logged_models.c.artifact_location).where(
            logged_models.c.model_id == model_id
        )
    ).scalar()
    if root is None:
        raise ResourceDoesNotExist(f"No logged model with id {model_id!r} exists.")
    return root


def _runs_location(connection: Connection, source: str, run_id: str | None) -> str:
    parts = urlsplit(source)
    source_run, _, path = parts.path.lstrip("/").partition("/")
    if parts.netloc or not source_run:
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; expected "
            "'runs:/<run_id>/<path>'."
        )
    if run_id is not None and run_id != source_run:
        raise InvalidParameterValue(
            f"The source {source!r} names run {source_run!r}, but the request "
            f"names run {run_id!r}; they must be the same."
        )
    root = _run_root(connection, source_run)
    relative = normalize_artifact_path(path or None)
    return f"{root.rstrip('/')}/{relative}" if relative else root


def _models_location(
    connection: Connection, source: str, model_id: str | None, model_root: str | None
) -> str:
    parts = urlsplit(source)
    segments = parts.path.lstrip("/").split("/")
    if parts.netloc or not segments[0]:
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; expected 'models:/m-<id>' "
            "or 'models:/<name>/<version>'."
        )
    if len(segments) == 1 and segments[0].startswith(_LOGGED_MODEL_PREFIX):
        if model_id is not None and model_id != segments[0]:
            raise InvalidParameterValue(
                f"The source {source!r} names logged model {segments[0]!r}, but "
                f"the request names model_id {model_id!r}; they must be the same."
            )
        return model_root or _model_root(connection, segments[0])
    if len(segments) != 2:
        raise InvalidParameterValue(
            f"Invalid model version source {source!r}; expected 'models:/m-<id>' "
            "or 'models:/<name>/<version>'."
        )
    name, version = segments
    location: str | None = connection.execute(
        select(model_versions.c.storage_location).where(
            model_versions.c.name == name,
            model_versions.c.version == validate_model_version(version),
        )
    ).scalar()
    if location is None:
        raise ResourceDoesNotExist(
            f"The source {source!r} names a model version that does not exist."
        )
    return location


def _lies_under(source: str, root: str) -> bool:
    source_parts, root_parts = urlsplit(source), urlsplit(root)
    source_scheme = source_parts.scheme.lower()
    root_scheme = root_parts.scheme.lower()
    if _is_local(source_scheme) and _is_local(root_scheme):
        return _path_under(local_path_from_uri(source), local_path_from_uri(root))
    if source_scheme != root_scheme or source_parts.query or source_parts.fragment:
        return False
    # mlflow-artifacts URIs may name the server (``//host:port``) or not;
    # any other URI must name the root's host or bucket.
    if source_scheme != "mlflow-artifacts" and not _same_authority(
        source_parts, root_parts
    ):
        return False
    # A client may send the path as written or decode it first: it must lie
    # under the root either way.
    return _segments_under(source_parts.path, root_parts.path, decode=False) and (
        _segments_under(source_parts.path, root_parts.path, decode=True)
    )


def _same_authority(source: SplitResult, root: SplitResult) -> bool:
    """Same user, password, host (in any case) and port (the scheme's default
    port written or not); a port that is no number matches nothing."""
    try:
        ports = [
            parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
            for parts in (source, root)
        ]
    except ValueError:
        return False
    return (
        ports[0] == ports[1]
        and source.username == root.username
        and source.password == root.password
        and (source.hostname or "").lower() == (root.hostname or "").lower()
    )


def _segments_under(path: str, root: str, decode: bool) -> bool:
    """Whether ``path`` equals ``root`` or continues it segment by segment."""
    if decode:
        path, root = _decoded(path), _decoded(root)
    path_segments, root_segments = _segments(path), _segments(root)
    return path_segments[: len(root_segments)] == root_segments


def _segments(path: str) -> list[str]:
    # A path starts with one slash and may end with one; any more are part
    # of it (the S3 key "/a" is not the key "a").
    path = path.removeprefix("/").removesuffix("/")
    return path.split("/") if path else []


def _decoded(text: str) -> str:
    for _ in range(_DECODE_ROUNDS):
        once = unquote(text)
        if once == text:
            break
        text = once
    return text


def _is_local(scheme: str) -> bool:
    return scheme in ("", "file") or len(scheme) == 1


def _path_under(path: Path, root: Path) -> bool:
    path = Path(os.path.normpath(path))
    root = Path(os.path.normpath(root))
    return path == root or path.is_relative_to(root)
