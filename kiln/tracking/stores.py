"""Open the tracking store a URI names, once per process.

SQL URIs (``sqlite:``, ``postgresql:``, ``mysql:`` …) open the embedded SQL
store; ``http(s)://`` URIs the REST store that talks to a server. Stores are
kept per resolved URI, so every client and the fluent API share one engine
and its connection pool.
"""

from __future__ import annotations

import threading
from importlib import import_module
from urllib.parse import urlsplit

from kiln.errors import InvalidParameterValue, NotImplementedFeature
from kiln.store.base import TrackingStore
from kiln.tracking.config import default_artifact_root, is_remote_uri, sqlite_path

__all__ = ["clear_stores", "get_store", "resolve_uri"]

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")

_stores: dict[tuple[str, str], TrackingStore] = {}
_lock = threading.Lock()


def resolve_uri(tracking_uri: str) -> str:
    """Make a relative SQLite path absolute so it names one file for good."""
    database = sqlite_path(tracking_uri)
    if database is None:
        return tracking_uri
    query = tracking_uri.partition("?")[2]
    scheme = tracking_uri.split("://", 1)[0]
    return f"{scheme}:///{database}" + (f"?{query}" if query else "")


def get_store(tracking_uri: str) -> TrackingStore:
    """Return the store for ``tracking_uri``, opening it on first use.

    Raises InvalidParameterValue for a URI no store understands, and
    NotImplementedFeature for server URLs while the REST store is absent.
    """
    uri = resolve_uri(tracking_uri)
    root = "" if is_remote_uri(uri) else default_artifact_root(uri)
    key = (uri, root)
    store = _stores.get(key)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _open_store(uri, root)
            _stores[key] = store
    return store


def clear_stores() -> None:
    """Forget every opened store, disposing of their connections when they can."""
    with _lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def _open_store(uri: str, artifact_root: str) -> TrackingStore:
    if is_remote_uri(uri):
        return _open_rest_store(uri)
    scheme = urlsplit(uri).scheme.split("+", 1)[0]
    if scheme not in _SQL_SCHEMES:
        raise InvalidParameterValue(
            f"Unsupported tracking URI {uri!r}; expected sqlite:///path.db, "
            "postgresql://… or an http(s):// server URL."
        )
    database = sqlite_path(uri)
    if database is not None:
        # SQLite creates the file but not the folder it lives in.
        database.parent.mkdir(parents=True, exist_ok=True)
    from kiln.store.sql.store import SqlStore

    return SqlStore(uri, artifact_root)


def _open_rest_store(uri: str) -> TrackingStore:
    try:
        rest = import_module("kiln.store.rest")
    except ModuleNotFoundError as exc:
        if exc.name != "kiln.store.rest":
            raise
        raise NotImplementedFeature(
            f"Cannot reach the tracking server {uri!r}; this Kiln build has no "
            "HTTP tracking store, so use a sqlite:// or postgresql:// URI."
        ) from None
    store: TrackingStore = rest.RestStore(uri)
    return store
