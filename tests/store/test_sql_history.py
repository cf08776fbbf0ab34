from __future__ import annotations

import itertools

import pytest

from kiln.entities import Metric
from kiln.errors import InvalidParameterValue
from kiln.search.paging import decode_page_token
from kiln.store.sql.metrics import sample_indices
from kiln.store.sql.store import SqlStore


def _run_with_points(store: SqlStore, count: int, key: str = "m") -> str:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    points = [Metric(key, float(i), 1000 + i, i) for i in range(count)]
    for start in range(0, count, 1000):
        store.log_batch(run_id, metrics=points[start : start + 1000])
    return run_id


def test_history_is_ordered_by_step_then_timestamp(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    for value, timestamp, step in [(3, 30, 2), (1, 20, 0), (2, 10, 1), (0, 5, 0)]:
        store.log_metric(run_id, Metric("m", float(value), timestamp, step))
    history = store.get_metric_history(run_id, "m")
    assert [(m.step, m.timestamp) for m in history] == [
        (0, 5),
        (0, 20),
        (1, 10),
        (2, 30),
    ]
    assert history.token is None
    assert all(m.run_id == run_id and m.key == "m" for m in history)


def test_history_pages_cover_every_point_once(store: SqlStore) -> None:
    run_id = _run_with_points(store, 25)
    seen: list[float] = []
    token: str | None = None
    pages = 0
    while True:
        page = store.get_metric_history(run_id, "m", max_results=10, page_token=token)
        seen.extend(m.value for m in page)
        pages += 1
        if page.token is None:
            break
        assert decode_page_token(page.token) > decode_page_token(token)
        token = page.token
    assert seen == [float(i) for i in range(25)]
    assert pages == 3


def test_history_exact_page_has_no_next_token(store: SqlStore) -> None:
    run_id = _run_with_points(store, 10)
    page = store.get_metric_history(run_id, "m", max_results=10)
    assert len(page) == 10 and page.token is None


def test_history_without_max_results_returns_everything(store: SqlStore) -> None:
    run_id = _run_with_points(store, 3000)
    history = store.get_metric_history(run_id, "m")
    assert len(history) == 3000
    assert history.token is None


def test_history_of_unknown_key_or_run_is_empty(store: SqlStore) -> None:
    run_id = _run_with_points(store, 2)
    assert store.get_metric_history(run_id, "other") == []
    assert store.get_metric_history("f" * 32, "m") == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_results": 0}, InvalidParameterValue),
        ({"max_results": -1}, InvalidParameterValue),
        ({"page_token": "not a token"}, InvalidParameterValue),
        ({"metric_key": "../x"}, InvalidParameterValue),
        ({"run_id": "../x"}, InvalidParameterValue),
    ],
)
def test_history_refuses_bad_requests(
    store: SqlStore, kwargs: dict[str, object], error: type[Exception]
) -> None:
    run_id = _run_with_points(store, 2)
    args: dict[str, object] = {"run_id": run_id, "metric_key": "m", **kwargs}
    with pytest.raises(error):
        store.get_metric_history(**args)  # type: ignore[arg-type]


def test_bulk_interval_keeps_first_last_and_at_most_max_results(
    store: SqlStore,
) -> None:
    long_run = _run_with_points(store, 1000)
    short_run = _run_with_points(store, 3)
    points = store.get_metric_history_bulk_interval([long_run, short_run], "m", 10)
    long_points = [p for p in points if p.run_id == long_run]
    short_points = [p for p in points if p.run_id == short_run]
    assert len(long_points) == 10
    assert long_points[0].step == 0 and long_points[-1].step == 999
    steps = [p.step for p in long_points]
    assert steps == sorted(steps)
    # Evenly spread: no gap is more than twice the ideal.
    gaps = [b - a for a, b in itertools.pairwise(steps)]
    assert max(gaps) <= 2 * 999 / 9
    assert [p.step for p in short_points] == [0, 1, 2]
    # Runs come back in the order asked for.
    assert points[0].run_id == long_run


def test_bulk_interval_samples_rows_not_distinct_steps(store: SqlStore) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_batch(run_id, metrics=[Metric("m", float(i), i, 0) for i in range(50)])
    points = store.get_metric_history_bulk_interval([run_id], "m", 5)
    assert len(points) == 5
    assert points[0].value == 0.0 and points[-1].value == 49.0


def test_bulk_interval_step_range(store: SqlStore) -> None:
    run_id = _run_with_points(store, 100)
    points = store.get_metric_history_bulk_interval(
        [run_id], "m", 5, start_step=10, end_step=20
    )
    assert len(points) == 5
    assert points[0].step == 10 and points[-1].step == 20


def test_bulk_interval_unknown_run_gives_nothing(store: SqlStore) -> None:
    assert store.get_metric_history_bulk_interval(["f" * 32], "m", 5) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"run_ids": []},
        {"run_ids": [f"{i:032x}" for i in range(101)]},
        {"max_results": 0},
        {"max_results": 2501},
        {"start_step": 1},
        {"end_step": 1},
        {"metric_key": ""},
        {"run_ids": ["../x"]},
    ],
)
def test_bulk_interval_refuses_bad_requests(
    store: SqlStore, kwargs: dict[str, object]
) -> None:
    args: dict[str, object] = {
        "run_ids": ["a" * 32],
        "metric_key": "m",
        "max_results": 10,
        **kwargs,
    }
    with pytest.raises(InvalidParameterValue):
        store.get_metric_history_bulk_interval(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("count", "wanted"),
    [(1, 1), (5, 1), (5, 5), (5, 10), (6, 5), (1000, 10), (2501, 2500), (10**6, 3)],
)
def test_sample_indices_are_spread_distinct_and_keep_the_ends(
    count: int, wanted: int
) -> None:
    positions = sample_indices(count, wanted)
    assert len(positions) == min(count, wanted)
    assert positions == sorted(set(positions))
    assert positions[0] == 0
    if wanted > 1:
        assert positions[-1] == count - 1
    assert all(0 <= p < count for p in positions)
