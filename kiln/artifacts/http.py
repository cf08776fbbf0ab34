"""Artifacts behind a tracking server's proxy (``mlflow-artifacts:``).

The proxy speaks plain HTTP at ``<server>/api/2.0/mlflow-artifacts/artifacts``:
one PUT per file (folders are implied by the paths), GET of a file, GET with
``?path=`` to list a folder (children by basename), DELETE. A run's root is
``mlflow-artifacts:/<path>``, resolved against the tracking server the run
came from, or a full ``http(s)://…/mlflow-artifacts/artifacts/<path>`` URL.

Requests go through the tracking store's :class:`~kiln.store.rest.RestClient`,
so they share its pooled connections, credentials, TLS settings and retries.
Files stream from and to disk in chunks: a model of many gigabytes never sits
in memory.
"""

from __future__ import annotations

import atexit
import mimetypes
import os
import posixpath
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit

import httpx

from kiln.artifacts.paths import (
    join_relative,
    join_safely,
    normalize_artifact_path,
    plan_file_upload,
    plan_folder_upload,
)
from kiln.artifacts.progress import ProgressBar, progress_bar
from kiln.entities import FileInfo
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    ResourceDoesNotExist,
    StorageUnavailable,
)
from kiln.store.rest.config import RestConfig
from kiln.store.rest.http import RestClient
from kiln.wire import Message, file_info_from_dict, loads

__all__ = ["PROXY_ENDPOINT", "HttpRepository", "open_proxy_repository"]

PROXY_ENDPOINT = "/api/2.0/mlflow-artifacts/artifacts"
_SCHEME = "mlflow-artifacts"
_CHUNK = 1024 * 1024
# Downloads land under this name next to their target, then are renamed.
_TEMP_PREFIX = ".kiln-download-"


# Clients this module opened itself, one per server and settings, kept for
# the life of the process so repeated calls reuse their connections.
_own_clients: dict[tuple[str, RestConfig], RestClient] = {}
_own_clients_lock = threading.Lock()


def _own_client(base_url: str, config: RestConfig) -> RestClient:
    key = (base_url.rstrip("/"), config)
    with _own_clients_lock:
        client = _own_clients.get(key)
        if client is None:
            if not _own_clients:
                atexit.register(_close_own_clients)
            client = _own_clients[key] = RestClient(base_url, config)
        return client


def _close_own_clients() -> None:
    with _own_clients_lock:
        clients = list(_own_clients.values())
        _own_clients.clear()
    for client in clients:
        client.close()


def _client_for(base_url: str, http: RestClient | None) -> RestClient:
    """The tracking server's client when ``base_url`` is on that server, else
    one for the other server, without the tracking credentials."""
    if http is not None and _same_origin(base_url, http.base_url):
        return http
    # A stored artifact URI may name any host; the tracking server's token or
    # password must not be handed to it.
    config = http.config if http is not None else RestConfig.from_env()
    anonymous = replace(config, username=None, password=None, token=None)
    return _own_client(base_url, anonymous)


def _same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def open_proxy_repository(
    uri: str, tracking_uri: str | None = None, http: RestClient | None = None
) -> HttpRepository:
    """The repository for a proxy root URI.

    ``mlflow-artifacts:/<path>`` needs the tracking server: ``http`` (the
    REST store's client) or else an ``http(s)`` ``tracking_uri``.
    ``mlflow-artifacts://host:port/<path>`` names the server itself.
    Raises :class:`~kiln.errors.InvalidParameterValue` for a URI that is
    neither of these nor a ``…/mlflow-artifacts/artifacts/…`` URL.
    """
    parts = urlsplit(uri)
    if parts.query or parts.fragment:
        raise InvalidParameterValue(
            f"Invalid artifact URI {uri!r}; expected no query or fragment."
        )
    if parts.scheme.lower() == _SCHEME:
        return _from_proxy_uri(uri, parts.netloc, parts.path, tracking_uri, http)

    marker = parts.path.find(PROXY_ENDPOINT)
    rest = parts.path[marker + len(PROXY_ENDPOINT) :] if marker >= 0 else ""
    is_http = parts.scheme.lower() in ("http", "https")
    if not is_http or marker < 0 or rest[:1] not in ("", "/"):
        raise InvalidParameterValue(
            f"Invalid artifact URI {uri!r}; expected an artifact proxy URL such as "
            f"'http://host:5000{PROXY_ENDPOINT}/<path>'."
        )
    server = f"{parts.scheme}://{parts.netloc}{parts.path[:marker]}"
    root = normalize_artifact_path(rest.lstrip("/") or None)
    return HttpRepository(uri, _client_for(server, http), root)


def _from_proxy_uri(
    uri: str,
    netloc: str,
    path: str,
    tracking_uri: str | None,
    http: RestClient | None,
) -> HttpRepository:
    root = normalize_artifact_path(path.lstrip("/") or None)
    if netloc:
        scheme = urlsplit(http.base_url if http else tracking_uri or "").scheme
        server = f"{scheme if scheme == 'https' else 'http'}://{netloc}"
        return HttpRepository(uri, _client_for(server, http), root)
    if http is not None:
        return HttpRepository(uri, http, root)
    if tracking_uri and urlsplit(tracking_uri).scheme.lower() in ("http", "https"):
        client = _own_client(tracking_uri, RestConfig.from_env())
        return HttpRepository(uri, client, root)
    raise InvalidParameterValue(
        f"Cannot reach the artifacts at {uri!r} without a tracking server; set the "
        "tracking URI to the server's http(s):// URL."
    )


class _Reader:
    """A file read in chunks for an upload body, counting bytes for a bar.

    httpx reads any object with ``read`` chunk by chunk, and takes the
    Content-Length from ``fileno``'s size.
    """

    def __init__(self, file: IO[bytes], bar: ProgressBar) -> None:
        self._file = file
        self._bar = bar

    def read(self, size: int = _CHUNK) -> bytes:
        chunk = self._file.read(size)
        self._bar.update(len(chunk))
        return chunk

    def fileno(self) -> int:
        return self._file.fileno()

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(_CHUNK):
            yield chunk


class HttpRepository:
    """A :class:`~kiln.artifacts.base.Repository` behind the artifact proxy.

    ``root`` is the root's path inside the proxy (``"1/abc/artifacts"``);
    paths given to the methods are relative to it and checked with
    :func:`~kiln.artifacts.paths.normalize_artifact_path`.
    """

    def __init__(self, root_uri: str, http: RestClient, root: str) -> None:
        self.root_uri = root_uri
        self.http = http
        self.root = root
        self._endpoint = http.base_url + PROXY_ENDPOINT

    def __repr__(self) -> str:
        return f"HttpRepository({self.root_uri!r})"

    def _url(self, relative: str) -> str:
        return f"{self._endpoint}/{quote(join_relative(self.root, relative), safe='/')}"

    # -- upload -------------------------------------------------------------
    def log_artifact(
        self, local_file: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload one local file into the folder ``artifact_path``."""
        self._upload(*plan_file_upload(local_file, artifact_path))

    def log_artifacts(
        self, local_dir: str | Path, artifact_path: str | None = None
    ) -> None:
        """Upload a local folder's files (recursively) into ``artifact_path``.

        Every destination is checked before the first upload. Empty folders
        are not kept: the proxy has files only.
        """
        for source, target in plan_folder_upload(local_dir, artifact_path):
            self._upload(source, target)

    def _upload(self, source: Path, relative: str) -> None:
        url = self._url(relative)
        content_type = mimetypes.guess_type(source.name)[0]
        headers = {"Content-Type": content_type or "application/octet-stream"}
        bar = progress_bar(f"Uploading {source.name}", source.stat().st_size)
        with source.open("rb") as file:
            reader = _Reader(file, bar)

            def build() -> httpx.Request:
                # A retry sends the file again from its first byte.
                file.seek(0)
                return self.http.client.build_request(
                    "PUT", url, content=reader, headers=headers
                )

            try:
                # Putting the same bytes at the same path twice stores them once.
                response = self.http.send(build, idempotent=True)
            finally:
                bar.close()
        self.http.raise_for_error(response)

    # -- listing ------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path``, with paths relative to the
        root; a missing folder or a file gives an empty list."""
        relative = normalize_artifact_path(path)
        params = {"path": join_relative(self.root, relative)}

        def build() -> httpx.Request:
            return self.http.client.build_request("GET", self._endpoint, params=params)

        response = self.http.send(build, idempotent=True)
        self.http.raise_for_error(response)
        try:
            body = loads(response.content) if response.content.strip() else {}
        except KilnError:
            body = None
        if not isinstance(body, dict):
            raise KilnError(
                f"The artifact proxy answered a listing of {relative!r} with "
                f"{response.text[:200]!r}; expected a JSON object."
            )
        infos = [
            _file_info(relative, entry) for entry in Message(body).messages("files")
        ]
        return sorted(infos, key=lambda info: info.path)

    # -- download -----------------------------------------------------------
    def download_artifacts(
        self, artifact_path: str, dst_path: str | Path | None = None
    ) -> str:
        """Download a file or folder to ``dst_path`` (default: a new temporary
        folder), keeping its path below the root; return where it landed.

        Raises :class:`~kiln.errors.ResourceDoesNotExist` if nothing is there.
        """
        relative = normalize_artifact_path(artifact_path)
        destination_root = Path(dst_path or tempfile.mkdtemp(prefix="kiln-"))
        destination = join_safely(destination_root, relative)
        children = self.list_artifacts(relative)
        if children or not relative:
            self._download_folder(relative, children, destination_root)
            destination.mkdir(parents=True, exist_ok=True)
        else:
            self._download_file(relative, destination)
        return str(destination)

    def _download_folder(
        self, relative: str, children: list[FileInfo], destination_root: Path
    ) -> None:
        for child in children:
            if child.is_dir:
                grandchildren = self.list_artifacts(child.path)
                self._download_folder(child.path, grandchildren, destination_root)
            else:
                self._download_file(
                    child.path, join_safely(destination_root, child.path)
                )

    def _download_file(self, relative: str, destination: Path) -> None:
        url = self._url(relative)

        def build() -> httpx.Request:
            return self.http.client.build_request("GET", url)

        response = self.http.send(build, idempotent=True, stream=True)
        try:
            if response.status_code == 404:
                response.read()
                raise ResourceDoesNotExist(
                    f"No artifact at {relative!r}; list its folder to see what exists."
                )
            self.http.raise_for_error(response)
            destination.parent.mkdir(parents=True, exist_ok=True)
            _save(response, destination, relative)
        finally:
            response.close()

    # -- delete -------------------------------------------------------------
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or folder; with no path, everything under the root.

        A missing path is not an error.
        """
        url = self._url(normalize_artifact_path(artifact_path))

        def build() -> httpx.Request:
            return self.http.client.build_request("DELETE", url)

        # Deleting what is already gone succeeds, so a retry is harmless.
        response = self.http.send(build, idempotent=True)
        self.http.raise_for_error(response)


def _file_info(folder: str, entry: Message) -> FileInfo:
    """A listing entry (a basename) as a path relative to the root.

    The name comes from the server, so it is checked to be one plain segment
    before it is ever joined to a local folder.
    """
    info = file_info_from_dict(entry)
    name = info.path
    if "/" in name.strip("/") or not normalize_artifact_path(name):
        raise InvalidParameterValue(
            f"The artifact proxy listed {name!r} in {folder!r}; expected a file "
            "or folder name."
        )
    return replace(info, path=join_relative(folder, name))


def _save(response: httpx.Response, destination: Path, relative: str) -> None:
    """Stream the body to a temporary file beside ``destination``, then rename
    it into place, so an interrupted download leaves no partial file."""
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    bar = progress_bar(f"Downloading {posixpath.basename(relative)}", total)
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
        os.replace(temp_name, destination)
    except httpx.HTTPError as exc:
        raise StorageUnavailable(
            f"The download of {relative!r} broke off: {exc!r}; try again."
        ) from exc
    finally:
        bar.close()
        Path(temp_name).unlink(missing_ok=True)
