"""Migration 0006: SQLite drops the (key, run_id) indexes its covering
indexes make redundant; PostgreSQL keeps them."""

from __future__ import annotations

from sqlalchemy import inspect

from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.migrate import upgrade

from .migrating import fresh_uri, migrate_to

# pytest finds the fixture imported above by name.
__all__ = ["fresh_uri"]

_NARROW = {"params": "ix_params_key_value", "tags": "ix_tags_key"}
_COVERING = {"params": "ix_params_key_value_run", "tags": "ix_tags_key_value_run"}


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
    migrate_to(fresh_uri, "0005")
    before = _indexes(fresh_uri)
    assert all(_NARROW[table] in before[table] for table in _NARROW)

    upgrade(fresh_uri)
    after = _indexes(fresh_uri)
    sqlite = fresh_uri.startswith("sqlite")
    for table in _NARROW:
        assert (_NARROW[table] in after[table]) is not sqlite
        assert (_COVERING[table] in after[table]) is sqlite

    migrate_to(fresh_uri, "0005", down=True)
    assert _indexes(fresh_uri) == before
