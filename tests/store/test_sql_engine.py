from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from kiln.errors import InvalidParameterValue, StorageUnavailable
from kiln.store.run_names import random_run_name
from kiln.store.sql import engine as engine_module
from kiln.store.sql.engine import create_db_engine, parse_db_uri
from kiln.store.sql.store import SqlStore


@pytest.mark.parametrize(
    "uri",
    ["mysql://user@host/db", "file:///tmp/x", "not a uri", "postgres+pg8000://h/d"],
)
def test_unsupported_uris_are_refused_by_name(uri: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="URI"):
        SqlStore(uri, str(tmp_path))


def test_password_is_hidden_in_messages() -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse_db_uri("mysql://user:secret@host/db")
    assert "secret" not in caught.value.message


@pytest.mark.parametrize("uri", ["postgresql://u@h/d", "postgresql+psycopg://u@h/d"])
def test_postgres_uris_use_psycopg(uri: str) -> None:
    assert parse_db_uri(uri).drivername == "postgresql+psycopg"


def test_sqlite_creates_parent_folders_and_sets_pragmas(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'a' / 'b' / 'kiln.db'}"
    engine = create_db_engine(uri)
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.execute(text(f"PRAGMA {name}")).scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("busy_timeout") == 30_000
            assert pragma("foreign_keys") == 1
            like = connection.execute(text("SELECT 'A' LIKE 'a'")).scalar()
            assert like == 0  # case_sensitive_like is on
    finally:
        engine.dispose()
    assert (tmp_path / "a" / "b" / "kiln.db").exists()


def test_sqlite_folder_that_cannot_exist_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageUnavailable):
        SqlStore(f"sqlite:///{tmp_path / 'file' / 'kiln.db'}", str(tmp_path))


def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    store = SqlStore("sqlite:///:memory:", str(tmp_path))
    try:
        exp_id = store.create_experiment("mem")
        run_id = store.create_run(exp_id, "u", 1, [], None).info.run_id
        from kiln.entities import Metric

        store.log_metric(run_id, Metric("m", 1.0, 1, 0))
        assert store.get_run(run_id).data.metrics == {"m": 1.0}
    finally:
        store.close()


def test_unreachable_postgres_is_storage_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore("postgresql://postgres:pw@127.0.0.1:1/kiln", str(tmp_path))
    message = caught.value.message
    assert "SELECT" not in message and "pw" not in message
    assert caught.value.http_status == 503


def test_locked_sqlite_is_storage_unavailable_without_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiln.db"
    store = SqlStore(f"sqlite:///{path}", str(tmp_path))
    store.close()
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    store = SqlStore(f"sqlite:///{path}", str(tmp_path))
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageUnavailable) as caught:
            store.create_experiment("blocked")
        assert "INSERT" not in caught.value.message
        assert "locked" in caught.value.message
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        store.close()


def test_random_run_names_are_readable_and_varied() -> None:
    names = {random_run_name() for _ in range(50)}
    assert len(names) > 40
    for name in names:
        adjective, animal, number = name.split("-")
        assert adjective.isalpha() and animal.isalpha()
        assert 0 <= int(number) < 1000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_starts_without_the_parents_connections(db_uri: str) -> None:
    engine = create_db_engine(db_uri)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        pid = os.fork()
        if pid == 0:
            os._exit(0 if engine.pool.checkedin() == 0 else 1)  # type: ignore[attr-defined]
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        with engine.connect() as connection:  # the parent's are still good
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
