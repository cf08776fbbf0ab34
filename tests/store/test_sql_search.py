from __future__ import annotations

import pytest

from kiln.entities import Metric, Param, RunTag, ViewType
from kiln.errors import InvalidParameterValue
from kiln.store.base import SEARCH_EXPERIMENTS_MAX, SEARCH_RUNS_MAX
from kiln.store.sql.store import SqlStore


def test_search_runs_loads_whole_runs_in_order(store: SqlStore) -> None:
    run_ids = []
    for i in range(3):
        run_id = store.create_run("0", "u", 100 + i, [RunTag("i", str(i))], None)
        store.log_batch(
            run_id.info.run_id,
            metrics=[Metric("m", float(i), 1, 0)],
            params=[Param("p", str(i))],
        )
        run_ids.append(run_id.info.run_id)
    found = store.search_runs(["0"])
    # Default order: newest start time first.
    assert [r.info.run_id for r in found] == run_ids[::-1]
    assert found.token is None
    for run in found:
        assert run == store.get_run(run.info.run_id)


def test_search_runs_filters_and_pages(store: SqlStore) -> None:
    for i in range(5):
        run_id = store.create_run("0", "u", i, [], None).info.run_id
        store.log_metric(run_id, Metric("acc", i / 10, 1, 0))
    first = store.search_runs(["0"], "metrics.acc >= 0.1", max_results=2)
    assert len(first) == 2 and first.token is not None
    second = store.search_runs(
        ["0"], "metrics.acc >= 0.1", max_results=2, page_token=first.token
    )
    assert len(second) == 2 and second.token is None
    values = [r.data.metrics["acc"] for r in [*first, *second]]
    assert sorted(values) == [0.1, 0.2, 0.3, 0.4]


def test_search_runs_view_types(store: SqlStore) -> None:
    kept = store.create_run("0", "u", 1, [], None).info.run_id
    gone = store.create_run("0", "u", 2, [], None).info.run_id
    store.delete_run(gone)

    def ids(view: ViewType) -> set[str]:
        return {r.info.run_id for r in store.search_runs(["0"], run_view_type=view)}

    assert ids(ViewType.ACTIVE_ONLY) == {kept}
    assert ids(ViewType.DELETED_ONLY) == {gone}
    assert ids(ViewType.ALL) == {kept, gone}


def test_search_experiments_pages(store: SqlStore) -> None:
    for i in range(3):
        store.create_experiment(f"e{i}", tags=[RunTag("i", str(i))])
    first = store.search_experiments(max_results=2)
    assert len(first) == 2 and first.token is not None
    rest = store.search_experiments(max_results=2, page_token=first.token)
    assert len(rest) == 2 and rest.token is None
    names = {e.name for e in [*first, *rest]}
    assert names == {"Default", "e0", "e1", "e2"}
    assert store.search_experiments(filter_string="name = 'e1'")[0].tags == {"i": "1"}


@pytest.mark.parametrize("max_results", [0, -1, SEARCH_RUNS_MAX + 1, True])
def test_search_runs_refuses_bad_max_results(store: SqlStore, max_results: int) -> None:
    with pytest.raises(InvalidParameterValue):
        store.search_runs(["0"], max_results=max_results)


@pytest.mark.parametrize("max_results", [0, SEARCH_EXPERIMENTS_MAX + 1])
def test_search_experiments_refuses_bad_max_results(
    store: SqlStore, max_results: int
) -> None:
    with pytest.raises(InvalidParameterValue):
        store.search_experiments(max_results=max_results)


def test_searches_refuse_bad_tokens_and_ids(store: SqlStore) -> None:
    with pytest.raises(InvalidParameterValue):
        store.search_runs(["0"], page_token="garbage!")
    with pytest.raises(InvalidParameterValue):
        store.search_runs(["zero"])
    with pytest.raises(InvalidParameterValue):
        store.search_experiments(page_token="garbage!")


def test_search_runs_loads_every_run_of_a_page_with_its_own_data(
    store: SqlStore,
) -> None:
    run_ids = [store.create_run("0", "u", i, [], None).info.run_id for i in range(30)]
    for run_id in run_ids:
        store.set_tag(run_id, RunTag("id", run_id))
    found = store.search_runs(["0"], max_results=1000)
    assert [r.info.run_id for r in found] == run_ids[::-1]
    assert all(r.data.tags["id"] == r.info.run_id for r in found)
