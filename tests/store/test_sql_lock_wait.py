"""Bounded waits for SQLite's write lock (``kiln.store.lock_wait``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kiln.entities import Metric, RunTag
from kiln.store.lock_wait import WriteLockBusy, bounded_lock_wait
from kiln.store.sql.store import SqlStore


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "kiln.db"


@pytest.fixture
def store(database: Path, tmp_path: Path) -> Iterator[SqlStore]:
    sql_store = SqlStore(f"sqlite:///{database}", str(tmp_path / "artifacts"))
    yield sql_store
    sql_store.close()


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.create_run("0", "u", 1, [], "r").info.run_id


@contextmanager
def write_lock_held(
    database: Path, release_after: float | None = None
) -> Iterator[None]:
    """Hold the database's write lock from another connection, as another
    process would; with ``release_after``, give it up after that many seconds."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = None
    if release_after is not None:
        timer = threading.Timer(release_after, holder.execute, ("ROLLBACK",))
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        else:
            holder.execute("ROLLBACK")
        holder.close()


def point(step: int) -> Metric:
    return Metric("loss", 0.5, 1_700_000_000_000 + step, step)


@pytest.mark.parametrize("write", ["set_tag", "log_metric", "log_batch"])
def test_a_bounded_write_gives_up_at_once_and_writes_nothing(
    store: SqlStore, run_id: str, database: Path, write: str
) -> None:
    calls = {
        "set_tag": lambda: store.set_tag(run_id, RunTag("k", "v")),
        "log_metric": lambda: store.log_metric(run_id, point(1)),
        "log_batch": lambda: store.log_batch(
            run_id, [point(1)], [], [RunTag("k", "v")]
        ),
    }
    started = time.monotonic()
    with write_lock_held(database), bounded_lock_wait(0), pytest.raises(WriteLockBusy):
        calls[write]()
    waited = time.monotonic() - started

    assert waited < 1.0
    run = store.get_run(run_id)
    assert "k" not in run.data.tags
    assert store.get_metric_history(run_id, "loss") == []


def test_after_giving_up_writes_wait_for_the_lock_again(
    store: SqlStore, run_id: str, database: Path
) -> None:
    with write_lock_held(database), bounded_lock_wait(0):
        for call in (
            lambda: store.log_metric(run_id, point(1)),
            lambda: store.set_tag(run_id, RunTag("k", "v")),
        ):
            with pytest.raises(WriteLockBusy):
                call()

    # The connections that gave up are back to the usual busy timeout: an
    # unbounded write waits for the lock rather than failing.
    with write_lock_held(database, release_after=0.3):
        store.log_metric(run_id, point(2))
        store.set_tag(run_id, RunTag("k", "v"))

    assert [m.step for m in store.get_metric_history(run_id, "loss")] == [2]
    assert store.get_run(run_id).data.tags["k"] == "v"


def test_a_free_lock_is_taken_and_only_the_first_write_is_bounded(
    store: SqlStore, run_id: str, database: Path
) -> None:
    with bounded_lock_wait(0):
        store.log_metric(run_id, point(1))
        # Once a write went through, running the call again would repeat
        # it; so a second write in the same call waits as usual.
        with write_lock_held(database, release_after=0.3):
            store.set_tag(run_id, RunTag("k", "v"))

    assert [m.step for m in store.get_metric_history(run_id, "loss")] == [1]
    assert store.get_run(run_id).data.tags["k"] == "v"


def test_reads_go_on_while_another_connection_writes(
    store: SqlStore, run_id: str, database: Path
) -> None:
    with write_lock_held(database), bounded_lock_wait(0):
        run = store.get_run(run_id)

    assert run.info.run_id == run_id
