"""Fixtures shared by every test folder: database URIs and a tracking store.

``store`` runs a test twice, on SQLite and on PostgreSQL. PostgreSQL is the
server on 127.0.0.1:5432 (user ``postgres``, no password); the session
creates one throwaway database, empties its tables before each test that
asks for it, and drops it at the end. Without a reachable server the
PostgreSQL cases skip, unless ``KILN_REQUIRE_SERVICES=1`` makes that a
failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kiln.store.sql.migrate import upgrade
from kiln.store.sql.store import SqlStore

PG_HOST = os.environ.get("KILN_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("KILN_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("KILN_TEST_PG_USER", "postgres")

_KEPT_TABLES = ("kiln_schema_version",)


def pg_admin_uri(database: str = "postgres") -> str:
    """A URI for ``database`` on the test server."""
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def _pg_connect(database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        dbname=database,
        autocommit=True,
        connect_timeout=3,
    )


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("KILN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (KILN_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(reason)


REPO_ROOT = Path(__file__).resolve().parents[1]


def find_mlflow_python() -> str | None:
    """The Python of the stock MLflow environment, or None when there is none.

    ``KILN_MLFLOW_PYTHON`` names it; else the ``python`` beside the
    ``KILN_MLFLOW_SERVER`` executable; else ``.venv-mlflow`` in the checkout,
    which ``scripts/install-mlflow`` creates.
    """
    named = os.environ.get("KILN_MLFLOW_PYTHON")
    if named:
        return named if Path(named).exists() else None
    server = os.environ.get("KILN_MLFLOW_SERVER")
    candidates = [Path(server).with_name("python")] if server else []
    candidates.append(REPO_ROOT / ".venv-mlflow" / "bin" / "python")
    return next((str(c) for c in candidates if c.exists()), None)


def require_mlflow_python() -> str:
    """Like find_mlflow_python, but skips the test (or fails under
    ``KILN_REQUIRE_SERVICES=1``) when MLflow is missing."""
    found = find_mlflow_python()
    if found is None:
        _skip_or_fail(
            "No Python with the stock mlflow: run scripts/install-mlflow or set "
            "KILN_MLFLOW_PYTHON."
        )
    return str(found)


def require_mlflow_executable() -> str:
    """The ``mlflow`` command of the stock MLflow environment."""
    named = os.environ.get("KILN_MLFLOW_SERVER")
    executable = (
        Path(named) if named else Path(require_mlflow_python()).with_name("mlflow")
    )
    if not executable.exists():
        _skip_or_fail(f"No mlflow executable at {executable}; set KILN_MLFLOW_SERVER.")
    return str(executable)


@pytest.fixture(scope="session")
def mlflow_python() -> str:
    return require_mlflow_python()


@pytest.fixture(scope="session")
def mlflow_executable() -> str:
    return require_mlflow_executable()


def create_pg_database(prefix: str = "kiln_test") -> str:
    """Create an empty database on the test server and return its name."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with _pg_connect() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    """Drop a database made by :func:`create_pg_database`, even if in use."""
    with _pg_connect() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_session_database() -> Iterator[str]:
    try:
        name = create_pg_database()
    except psycopg.OperationalError as error:
        _skip_or_fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable: {error}")
        return
    try:
        yield name
    finally:
        drop_pg_database(name)


def _empty_tables(database: str) -> None:
    # DELETE and a sequence restart take milliseconds on a test's few rows;
    # TRUNCATE would rewrite every table's files and take half a second.
    with _pg_connect(database) as connection, connection.transaction():
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            if table not in _KEPT_TABLES:
                connection.execute(f'DELETE FROM "{table}"')
        sequences = connection.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        for (sequence,) in sequences:
            connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')


@pytest.fixture
def postgres_uri(_pg_session_database: str) -> str:
    """The session's PostgreSQL database, its tables emptied for this test."""
    _empty_tables(_pg_session_database)
    return pg_admin_uri(_pg_session_database)


@pytest.fixture
def fresh_postgres_uri(_pg_session_database: str) -> Iterator[str]:
    """A brand-new empty PostgreSQL database, dropped after the test."""
    name = create_pg_database("kiln_fresh")
    try:
        yield pg_admin_uri(name)
    finally:
        drop_pg_database(name)


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    """A SQLite database file of this test's own (created on first use)."""
    return f"sqlite:///{tmp_path / 'kiln.db'}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating a new SQLite file takes a fifth of a second; copying an
    # already migrated, empty one takes a millisecond.
    path = tmp_path_factory.mktemp("template") / "kiln.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean database (its tables may exist already, empty), once per dialect."""
    if request.param == "sqlite":
        path = tmp_path / "kiln.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    uri: str = request.getfixturevalue("postgres_uri")
    return uri


@pytest.fixture
def artifact_root(tmp_path: Path) -> str:
    return str(tmp_path / "artifacts")


@pytest.fixture
def store(db_uri: str, artifact_root: str) -> Iterator[SqlStore]:
    """A SqlStore on a clean database, once on SQLite and once on PostgreSQL."""
    sql_store = SqlStore(db_uri, artifact_root)
    try:
        yield sql_store
    finally:
        sql_store.close()
