"""DBAPI connections held per thread for the store's busiest writes.

Checking a connection out of SQLAlchemy's pool and back in costs about as
much as writing a metric point to SQLite. A training loop logs from one or
two threads, so each thread keeps one connection of its own instead; the
connection is detached from the pool, dropped after any error (the next call
opens a fresh one) and never crosses a ``fork``. :meth:`HotConnections.transaction`
runs one write transaction on it, for metric logging and run creation alike.

Only file-backed SQLite uses this. PostgreSQL connections are a server
resource better shared through the pool, and an in-memory SQLite database
has a single connection.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

from kiln.store.lock_wait import WriteLockBusy
from kiln.store.sql.engine import begin_immediate, is_memory_sqlite


class _Held:
    """One thread's connection and cursor; weakly tracked for ``close_all``."""

    __slots__ = ("__weakref__", "connection", "cursor", "pid", "proxied")

    def __init__(self, proxied: PoolProxiedConnection, connection: Any) -> None:
        self.pid = os.getpid()
        # The pool's wrapper, detached: closing it closes the DBAPI connection.
        self.proxied = proxied
        self.connection = connection
        self.cursor = connection.cursor()

    def close(self) -> None:
        self.cursor.close()
        self.proxied.close()


class HotConnections:
    """Hands out DBAPI connections for short write transactions."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self.per_thread = self._sqlite and not is_memory_sqlite(engine.url)
        self._local = threading.local()
        self._all: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    def acquire(self) -> tuple[Any, Any]:
        """A (connection, cursor) pair; give it back with :meth:`release`."""
        if not self.per_thread:
            proxied = self._engine.raw_connection()
            return proxied, proxied.cursor()
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.pid != os.getpid():
            held = self._open()
        return held.connection, held.cursor

    def release(self, connection: Any, failed: bool) -> None:
        """Return a connection; after an error it is closed, not reused."""
        if not self.per_thread:
            connection.close()
            return
        if failed:
            held: _Held | None = getattr(self._local, "held", None)
            self._local.held = None
            if held is not None:
                held.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor in one write transaction, committed when the block ends
        and rolled back when it raises.

        On SQLite the transaction takes the write lock when it begins (see
        :func:`~kiln.store.sql.engine.begin_immediate`).
        """
        connection, cursor = self.acquire()
        failed = True
        try:
            if self._sqlite:
                try:
                    begin_immediate(cursor.connection, cursor.execute)
                except WriteLockBusy:
                    # Nothing began: the connection is kept for the next call.
                    failed = False
                    raise
            yield cursor
            connection.commit()
            failed = False
        finally:
            try:
                if failed:
                    connection.rollback()
            finally:
                # A connection whose rollback failed is dropped, not reused.
                self.release(connection, failed)

    def close_all(self) -> None:
        """Close every thread's connection (for ``SqlStore.close``)."""
        with self._lock:
            held = list(self._all)
            self._all.clear()
        for item in held:
            item.close()
        self._local = threading.local()

    def _open(self) -> _Held:
        proxied = self._engine.raw_connection()
        connection = proxied.driver_connection
        # Detached, the connection keeps the settings of the engine's connect
        # hook but no longer counts against (or returns to) the pool.
        proxied.detach()
        held = _Held(proxied, connection)
        self._local.held = held
        with self._lock:
            self._all.add(held)
        return held
