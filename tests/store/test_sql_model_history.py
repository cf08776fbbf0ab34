"""The run's logged-model history tag (``runs/log-model``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from kiln.entities import RunTag
from kiln.errors import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from kiln.store.model_history import MODEL_HISTORY_TAG
from kiln.store.sql.store import SqlStore

THREADS = 8
CALLS_PER_THREAD = 6


@pytest.fixture
def run_id(store: SqlStore) -> str:
    return store.create_run("0", "u", 1, [], "r").info.run_id


def model_json(run_id: str, artifact_path: str) -> str:
    return json.dumps(
        {
            "artifact_path": artifact_path,
            "flavors": {"python_function": {}},
            "run_id": run_id,
            "utc_time_created": "2024-01-01 00:00:00.000000",
        }
    )


def history(store: SqlStore, run_id: str) -> list[str]:
    value = store.get_run(run_id).data.tags[MODEL_HISTORY_TAG]
    return [model["artifact_path"] for model in json.loads(value)]


def test_models_are_appended_in_order(store: SqlStore, run_id: str) -> None:
    store.record_logged_model(run_id, model_json(run_id, "first"))
    store.record_logged_model(run_id, model_json(run_id, "second"))

    assert history(store, run_id) == ["first", "second"]


def test_an_existing_list_is_kept(store: SqlStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag(MODEL_HISTORY_TAG, '[{"artifact_path": "old"}]'))

    store.record_logged_model(run_id, model_json(run_id, "new"))

    assert history(store, run_id) == ["old", "new"]


@pytest.mark.parametrize("text", ['{"artifact_path": "m"}', "[1]", "not json"])
def test_a_model_json_that_is_no_mlmodel_is_refused(
    store: SqlStore, run_id: str, text: str
) -> None:
    with pytest.raises(InvalidParameterValue):
        store.record_logged_model(run_id, text)

    assert MODEL_HISTORY_TAG not in store.get_run(run_id).data.tags


def test_a_tag_that_is_no_list_is_left_alone(store: SqlStore, run_id: str) -> None:
    store.set_tag(run_id, RunTag(MODEL_HISTORY_TAG, '{"not": "a list"}'))

    with pytest.raises(InvalidState, match="not a JSON list"):
        store.record_logged_model(run_id, model_json(run_id, "m"))

    assert store.get_run(run_id).data.tags[MODEL_HISTORY_TAG] == '{"not": "a list"}'


def test_missing_and_deleted_runs_are_refused(store: SqlStore, run_id: str) -> None:
    store.delete_run(run_id)

    with pytest.raises(InvalidParameterValue, match="active"):
        store.record_logged_model(run_id, model_json(run_id, "m"))
    with pytest.raises(ResourceDoesNotExist):
        store.record_logged_model("f" * 32, model_json(run_id, "m"))


def test_concurrent_appends_keep_every_model(
    store: SqlStore, db_uri: str, artifact_root: str, run_id: str
) -> None:
    # Half the threads share the fixture's store, half a second store with
    # its own connections, as a second server worker would have.
    other = SqlStore(db_uri, artifact_root)
    start = threading.Barrier(THREADS)

    def log_models(thread: int) -> None:
        target = store if thread % 2 else other
        start.wait()
        for call in range(CALLS_PER_THREAD):
            target.record_logged_model(run_id, model_json(run_id, f"t{thread}-{call}"))

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(log_models, range(THREADS)))
    finally:
        other.close()

    logged = history(store, run_id)
    expected = {f"t{t}-{c}" for t in range(THREADS) for c in range(CALLS_PER_THREAD)}
    assert len(logged) == THREADS * CALLS_PER_THREAD
    assert set(logged) == expected
    for thread in range(THREADS):
        # Each thread's own calls land in the order it made them.
        mine = [path for path in logged if path.startswith(f"t{thread}-")]
        assert mine == [f"t{thread}-{c}" for c in range(CALLS_PER_THREAD)]
