"""Engines for the search SQL tests: in-memory SQLite always, and a throwaway
PostgreSQL database when the server at 127.0.0.1:5432 answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from kiln.store.sql.schema import metadata

POSTGRES_SERVER = "postgres@127.0.0.1:5432"


def _require_services() -> bool:
    return os.environ.get("KILN_REQUIRE_SERVICES") == "1"


def _sqlite_engine() -> Engine:
    # One shared connection, so every query sees the same in-memory database.
    engine = create_engine("sqlite://", poolclass=StaticPool)

    @event.listens_for(engine, "connect")
    def _case_sensitive_like(connection: Any, _record: Any) -> None:
        # The SQL store turns this on for every connection; LIKE must be
        # case-sensitive as on PostgreSQL.
        connection.execute("PRAGMA case_sensitive_like = ON")

    return engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped after."""
    try:
        import psycopg
    except ImportError as exc:  # the postgres extra is not installed
        if _require_services():
            pytest.fail(f"psycopg is required but missing: {exc}")
        pytest.skip(f"psycopg is not installed: {exc}")

    name = f"kiln_search_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(
            f"postgresql://{POSTGRES_SERVER}/postgres",
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        if _require_services():
            pytest.fail(f"PostgreSQL at {POSTGRES_SERVER} is required: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_SERVER} is not reachable: {exc}")

    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://{POSTGRES_SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine with an empty tracking schema, per test module and backend."""
    if request.param == "sqlite":
        engine = _sqlite_engine()
    else:
        engine = create_engine(request.getfixturevalue("postgres_url"))
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        metadata.drop_all(engine)
        engine.dispose()
