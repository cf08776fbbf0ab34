from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from kiln.errors import InvalidParameterValue
from kiln.store.sql.engine import create_db_engine
from kiln.store.sql.migrate import (
    HEAD_REVISION,
    VERSION_TABLE,
    current_revision,
    head_revision,
    upgrade,
)
from kiln.store.sql.schema import (
    POSTGRESQL_ONLY_INDEXES,
    SQLITE_ONLY_INDEXES,
    experiments,
    metadata,
)
from kiln.store.sql.store import SqlStore

PROCESSES = 4

# Each child imports Kiln, then waits for the go file so that all of them
# open the fresh database within a few milliseconds of each other.
_CHILD = """
import sys, time
from pathlib import Path
from kiln.store.sql.store import SqlStore
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.002)
SqlStore(sys.argv[2], sys.argv[3]).close()
"""


def test_head_revision_constant_matches_the_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_migrated_schema_matches_schema_module(db_uri: str) -> None:
    upgrade(db_uri)
    engine = create_db_engine(db_uri)
    try:
        with engine.connect() as connection:
            dialect = connection.dialect.name
            elsewhere = (
                POSTGRESQL_ONLY_INDEXES if dialect == "sqlite" else SQLITE_ONLY_INDEXES
            )
            context = MigrationContext.configure(
                connection,
                opts={
                    "version_table": VERSION_TABLE,
                    "include_object": lambda item, name, kind, *_: (
                        name not in elsewhere
                    ),
                },
            )
            differences = compare_metadata(context, metadata)
            assert current_revision(connection) == HEAD_REVISION
    finally:
        engine.dispose()
    assert differences == []


def test_upgrade_twice_is_harmless(sqlite_uri: str) -> None:
    upgrade(sqlite_uri)
    upgrade(sqlite_uri)


_OPEN_AND_REPORT_ALEMBIC = """
import sys
from kiln.store.sql.store import SqlStore
SqlStore(sys.argv[1], sys.argv[2]).close()
print("alembic" in sys.modules)
"""


def test_opening_a_current_database_skips_importing_alembic(
    sqlite_uri: str, tmp_path: Path
) -> None:
    upgrade(sqlite_uri)
    command = [sys.executable, "-c", _OPEN_AND_REPORT_ALEMBIC]
    done = subprocess.run(
        [*command, sqlite_uri, str(tmp_path / "artifacts")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False"


def test_upgrade_refuses_unknown_schemes() -> None:
    with pytest.raises(InvalidParameterValue, match="mysql"):
        upgrade("mysql://user@host/db")


def _start_at_once(uri: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(go), uri, str(tmp_path / "art")],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    time.sleep(1.0)  # let every child finish importing
    go.touch()
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * PROCESSES, errors


def _assert_created_once(uri: str) -> None:
    engine = create_db_engine(uri)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == HEAD_REVISION
            versions = connection.execute(
                text(f"SELECT count(*) FROM {VERSION_TABLE}")
            ).scalar()
            count = connection.execute(select(func.count()).select_from(experiments))
            assert (versions, count.scalar()) == (1, 1)
    finally:
        engine.dispose()


def test_processes_starting_together_on_fresh_sqlite(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new' / 'kiln.db'}"
    _start_at_once(uri, tmp_path)
    _assert_created_once(uri)


@pytest.mark.postgres
def test_processes_starting_together_on_fresh_postgres(
    fresh_postgres_uri: str, tmp_path: Path
) -> None:
    _start_at_once(fresh_postgres_uri, tmp_path)
    _assert_created_once(fresh_postgres_uri)


@pytest.mark.postgres
def test_explicit_default_id_leaves_the_sequence_alone(
    fresh_postgres_uri: str, tmp_path: Path
) -> None:
    store = SqlStore(fresh_postgres_uri, str(tmp_path))
    try:
        assert [store.create_experiment(f"e{i}") for i in range(3)] == ["1", "2", "3"]
    finally:
        store.close()
