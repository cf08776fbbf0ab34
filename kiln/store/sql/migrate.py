"""Create or upgrade the tracking schema, safely from several processes at once.

Kiln runs its Alembic migrations programmatically: no ``alembic.ini`` is
needed. Several servers or scripts may open a fresh database at the same
moment, so the upgrade runs in one transaction holding a lock every other
upgrader waits for: ``pg_advisory_xact_lock`` on PostgreSQL, the write lock
(``BEGIN IMMEDIATE``) on SQLite. The loser of the race then finds the schema
at head and does nothing.

Alembic is imported only when a migration must run: a process opening a
database already at head (every CLI call, every server start) checks the
version with a catalog query and a select, and skips Alembic's import (half a
second on a busy machine).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from kiln.store.sql.engine import WRITE_OPTION, create_db_engine, translated_errors

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest revision under migrations/versions; a test checks it against
# Alembic's own view, so a new migration must update it.
HEAD_REVISION = "0006"

# Not Alembic's default name, so a database shared with another Alembic-managed
# application (such as an MLflow server) is not mistaken for Kiln's.
VERSION_TABLE = "kiln_schema_version"

# Any constant shared by every Kiln process; it names the advisory lock.
_PG_LOCK_KEY = 0x4B494C4E  # "KILN"

_MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(db_uri: str) -> None:
    """Bring the database at ``db_uri`` to the latest schema.

    Raises InvalidParameterValue for an unsupported URI and
    StorageUnavailable when the database cannot be reached.
    """
    engine = create_db_engine(db_uri)
    try:
        with translated_errors(db_uri):
            upgrade_engine(engine)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine) -> None:
    """Bring the database behind ``engine`` to the latest schema."""
    with engine.connect() as connection:
        current = current_revision(connection)
        connection.rollback()
    if current == HEAD_REVISION:
        return
    with (
        engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
        connection.begin(),
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
            )
        _run_alembic(connection)


def current_revision(connection: Connection) -> str | None:
    """The schema revision recorded in the database, or None when fresh."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def alembic_config() -> Config:
    """Alembic's configuration for Kiln's migrations, built without a file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The head revision as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run_alembic(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    before = current_revision(connection)
    command.upgrade(config, "head")
    if before != HEAD_REVISION:
        log.info("Upgraded the tracking schema from %s to %s", before, HEAD_REVISION)
