"""Migration 0006: SQLite drops the (key, run_id) indexes its covering
indexes make redundant; PostgreSQL keeps them."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.migrate import alembic_config, upgrade

_NARROW = {"params": "ix_params_key_value", "tags": "ix_tags_key"}
_COVERING = {"params": "ix_params_key_value_run", "tags": "ix_tags_key_value_run"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_uri(request: pytest.FixtureRequest) -> str:
    name = "sqlite_uri" if request.param == "sqlite" else "fresh_postgres_uri"
    uri: str = request.getfixturevalue(name)
    return uri


def _migrate(uri: str, revision: str, *, down: bool = False) -> None:
    engine = create_db_engine(uri)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def _indexes(uri: str) -> dict[str, set[str]]:
    engine = create_db_engine(uri)
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            return {
                table: {index["name"] or "" for index in found.get_indexes(table)}
                for table in _NARROW
            }
    finally:
        engine.dispose()


def test_sqlite_keeps_only_the_covering_index_and_postgres_the_narrow_one(
    fresh_uri: str,
) -> None:
    _migrate(fresh_uri, "0005")
    before = _indexes(fresh_uri)
    assert all(_NARROW[table] in before[table] for table in _NARROW)

    upgrade(fresh_uri)
    after = _indexes(fresh_uri)
    sqlite = fresh_uri.startswith("sqlite")
    for table in _NARROW:
        assert (_NARROW[table] in after[table]) is not sqlite
        assert (_COVERING[table] in after[table]) is sqlite

    _migrate(fresh_uri, "0005", down=True)
    assert _indexes(fresh_uri) == before
