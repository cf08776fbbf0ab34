"""Database engines for the SQL store, and the translation of driver errors.

Kiln stores tracking data in SQLite (``sqlite:///path/to/kiln.db``) or
PostgreSQL (``postgresql://user@host/db``, through psycopg 3). Every
connection is tuned here so the rest of the store can assume one behaviour.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from kiln.errors import InvalidParameterValue, KilnError, StorageUnavailable
from kiln.store.lock_wait import WriteLockBusy, lock_wait_allowed, note_lock_taken

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000

# The busy timeout each open SQLite connection has, by the connection's id().
# An id is reused only once its connection is gone, and every new connection
# passes through the connect hook, which records its timeout here.
_busy_timeouts: dict[int, int] = {}

# Execution option marking a connection that will write; on SQLite its
# transaction starts with BEGIN IMMEDIATE (see _begin_sqlite).
WRITE_OPTION = "kiln_write"

_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")


def parse_db_uri(db_uri: str) -> URL:
    """Parse a database URI, refusing schemes Kiln does not support."""
    try:
        url = make_url(db_uri)
    except sa_exc.ArgumentError:
        raise InvalidParameterValue(
            f"Invalid database URI {db_uri!r}; expected sqlite:///<path> or "
            "postgresql://<user>@<host>/<database>."
        ) from None
    if url.drivername in _POSTGRES_SCHEMES:
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite":
        return url
    raise InvalidParameterValue(
        f"Unsupported database URI {safe_uri(db_uri)!r}; expected sqlite:///<path> "
        "or postgresql://<user>@<host>/<database>."
    )


def safe_uri(db_uri: str) -> str:
    """The URI with any password hidden, fit for messages and logs."""
    try:
        return make_url(db_uri).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URI>"


def is_memory_sqlite(url: URL) -> bool:
    return url.drivername == "sqlite" and url.database in (None, "", ":memory:")


def create_db_engine(db_uri: str) -> Engine:
    """Build the engine for ``db_uri`` with Kiln's connection settings.

    Raises InvalidParameterValue for an unsupported scheme.
    """
    url = parse_db_uri(db_uri)
    if url.drivername == "sqlite":
        engine = _create_sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if not is_memory_sqlite(url):
        _forget_connections_after_fork(engine)
    return engine


def _forget_connections_after_fork(engine: Engine) -> None:
    # A forked child (a data loader worker, say) must not share its parent's
    # open connections: both would write through one SQLite handle or one
    # PostgreSQL socket. The child drops its copies, without closing them
    # under the parent, and opens its own on first use.
    reference = weakref.ref(engine)

    def forget() -> None:
        forked = reference()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _create_sqlite_engine(url: URL) -> Engine:
    if is_memory_sqlite(url):
        # One shared connection: each new connection to :memory: would see
        # an empty database of its own.
        engine = create_engine(
            "sqlite://",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        folder = Path(url.database or "").expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(
                f"Cannot create the folder {str(folder)!r} for the SQLite "
                f"database: {error.strerror}."
            ) from None
        engine = create_engine(url, pool_size=8, max_overflow=16)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite_connection(
    dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry
) -> None:
    # Kiln issues BEGIN itself (see _begin_sqlite): the sqlite3 module's own
    # implicit transactions start late and cannot take the write lock first.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout comes first so the following pragmas wait for a lock
    # held by another process instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _busy_timeouts[id(dbapi_connection)] = SQLITE_BUSY_TIMEOUT_MS
    # WAL lets readers run while one writer commits.
    cursor.execute("PRAGMA journal_mode = WAL")
    # NORMAL syncs the WAL at checkpoints rather than at every commit: a
    # committed transaction survives a crash of the process (the data is in
    # the OS's file cache), and only a power loss or OS crash may lose the
    # last few commits, never corrupt the file. FULL would cost an fsync per
    # log call and cap logging at a few hundred calls per second.
    cursor.execute("PRAGMA synchronous = NORMAL")
    # A larger page cache (up to 32 MB, taken as used) and checkpoints every
    # 40 MB of WAL rather than 4 MB: a run's metrics are written at a few
    # places in their b-tree, and the same pages would otherwise be evicted,
    # re-read and copied back to the database file over and over. Together
    # worth about a fifth of the time of bulk logging.
    cursor.execute("PRAGMA cache_size = -32000")
    cursor.execute("PRAGMA wal_autocheckpoint = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    # LIKE is case-sensitive on PostgreSQL; the search compiler relies on
    # SQLite matching it.
    cursor.execute("PRAGMA case_sensitive_like = ON")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # A writer takes the write lock when it begins, so the busy timeout
    # applies; a deferred transaction that reads first and writes later
    # fails at once with SQLITE_BUSY when another process wrote meanwhile.
    dbapi_connection = connection.connection.dbapi_connection
    if connection.get_execution_options().get(WRITE_OPTION):
        begin_immediate(dbapi_connection, connection.exec_driver_sql)
    else:
        _use_busy_timeout(
            dbapi_connection, connection.exec_driver_sql, SQLITE_BUSY_TIMEOUT_MS
        )
        connection.exec_driver_sql("BEGIN")


def begin_immediate(dbapi_connection: object, execute: Callable[[str], object]) -> None:
    """Begin a write transaction on the SQLite ``dbapi_connection`` through
    ``execute`` (its cursor's, or its SQLAlchemy connection's), taking the
    write lock at once.

    The lock is waited for up to the busy timeout, or only as long as
    :func:`kiln.store.lock_wait.lock_wait_allowed` allows, in which case a
    lock still taken raises :class:`~kiln.store.lock_wait.WriteLockBusy`.
    """
    wait_ms = lock_wait_allowed()
    if wait_ms is None:
        _use_busy_timeout(dbapi_connection, execute, SQLITE_BUSY_TIMEOUT_MS)
        execute("BEGIN IMMEDIATE")
        return
    _use_busy_timeout(dbapi_connection, execute, wait_ms)
    try:
        execute("BEGIN IMMEDIATE")
    except (sqlite3.OperationalError, sa_exc.OperationalError) as error:
        if _is_busy(getattr(error, "orig", error)):
            raise WriteLockBusy(
                f"The database's write lock stayed taken for {wait_ms} ms."
            ) from None
        raise
    note_lock_taken()


def _use_busy_timeout(
    dbapi_connection: object, execute: Callable[[str], object], timeout_ms: int
) -> None:
    # Set only when it changes: a connection serving one kind of call (the
    # event loop's bounded ones, say) keeps its timeout without a PRAGMA.
    key = id(dbapi_connection)
    if _busy_timeouts.get(key) != timeout_ms:
        execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
        _busy_timeouts[key] = timeout_ms


def _is_busy(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return "database is locked" in str(error)


def _message_of(error: BaseException) -> str:
    # A driver message may quote SQL on its following lines ("LINE 1: ...");
    # keep only the first one.
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


@contextmanager
def translated_errors(db_uri: str) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into Kiln errors without SQL text."""
    try:
        yield
    except KilnError:
        raise
    except sa_exc.DBAPIError as error:
        raise driver_error(error.orig, db_uri, error) from None
    except sa_exc.SQLAlchemyError as error:
        log.exception("Database error on %s", safe_uri(db_uri))
        raise KilnError(
            f"The database at {safe_uri(db_uri)!r} failed: {type(error).__name__}."
        ) from None
    except (sqlite3.Error, _psycopg_error()) as error:
        raise driver_error(error, db_uri, error) from None


def driver_error(orig: Any, db_uri: str, context: BaseException) -> KilnError:
    """The Kiln error for an error raised by the database driver."""
    name = type(orig).__name__
    if name in ("OperationalError", "InterfaceError") or isinstance(
        context, sa_exc.DisconnectionError
    ):
        return StorageUnavailable(
            f"The database at {safe_uri(db_uri)!r} is unavailable: "
            f"{_message_of(orig)}; try again later."
        )
    log.error("Database error on %s: %s", safe_uri(db_uri), _message_of(orig))
    return KilnError(f"The database at {safe_uri(db_uri)!r} failed: {name}.")


def _psycopg_error() -> type[BaseException]:
    try:
        import psycopg
    except ImportError:  # psycopg is optional: only PostgreSQL needs it
        return sqlite3.Error
    return psycopg.Error
