"""Helpers for tests of one migration: a fresh database on each engine, and
moving it to a given revision."""

from __future__ import annotations

import pytest
from alembic import command

from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.migrate import alembic_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_uri(request: pytest.FixtureRequest) -> str:
    """An empty database, on SQLite and on PostgreSQL."""
    name = "sqlite_uri" if request.param == "sqlite" else "fresh_postgres_uri"
    uri: str = request.getfixturevalue(name)
    return uri


def migrate_to(uri: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database to ``revision``."""
    engine = create_db_engine(uri)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()
