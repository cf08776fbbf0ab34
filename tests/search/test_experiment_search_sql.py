"""Experiment searches compiled to SQL, on SQLite and (when reachable)
PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, insert

from kiln.entities import ViewType
from kiln.errors import InvalidFilter
from kiln.search.sql import select_experiment_ids
from kiln.store.sql.schema import experiment_tags, experiments

# id, name, lifecycle stage, creation time, last update time, tags
EXPERIMENTS = [
    (0, "Default", "active", None, None, {}),
    (1, "exp-a", "active", 100, 500, {"owner": "ann", "team": "Vision"}),
    (2, "Exp-B", "active", 200, 300, {"owner": "bob"}),
    (3, "old", "deleted", 50, 60, {}),
    (4, "exp-c", "active", 200, None, {"team": "nlp"}),
    (12, "exp-12", "active", 150, 150, {}),
]
DEFAULT_ORDER = [2, 4, 12, 1, 0]


@pytest.fixture(scope="module")
def db(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(
            insert(experiments),
            [
                {
                    "experiment_id": i,
                    "name": name,
                    "artifact_location": f"/a/{i}",
                    "lifecycle_stage": stage,
                    "creation_time": created,
                    "last_update_time": updated,
                }
                for i, name, stage, created, updated, _ in EXPERIMENTS
            ],
        )
        conn.execute(
            insert(experiment_tags),
            [
                {"experiment_id": i, "key": key, "value": value}
                for i, *_, tag_values in EXPERIMENTS
                for key, value in tag_values.items()
            ],
        )
    return engine


def search(
    db: Engine,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    offset: int = 0,
    limit: int = 100,
) -> list[int]:
    query = select_experiment_ids(filter_string, view_type, order_by, offset, limit)
    with db.connect() as conn:
        return list(conn.execute(query).scalars())


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, DEFAULT_ORDER),
        ("name = 'exp-a'", [1]),
        ("name != 'exp-a'", [2, 4, 12, 0]),
        ("name LIKE 'exp%'", [4, 12, 1]),
        ("attributes.name ILIKE 'exp%'", [2, 4, 12, 1]),
        ("creation_time > 150", [2, 4]),
        ("last_update_time <= 300", [2, 12]),
        ("last_update_time != 300", [12, 1]),  # a missing time never matches
    ],
)
def test_attributes_compare_experiment_columns(
    db: Engine, filter_string: str | None, expected: list[int]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("experiment_id = '1'", [1]),
        ("experiment_id = 'x'", []),
        ("experiment_id != 'x'", DEFAULT_ORDER),
        ("experiment_id != '1'", [2, 4, 12, 0]),
        ("experiment_id IN ('1', '2', 'nope')", [2, 1]),
        ("experiment_id NOT IN ('1', '2')", [4, 12, 0]),
        ("experiment_id LIKE '1%'", [12, 1]),
        ("experiment_id = '99999999999'", []),  # larger than the column allows
    ],
)
def test_experiment_ids_compare_as_the_strings_the_api_shows(
    db: Engine, filter_string: str, expected: list[int]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.owner = 'ann'", [1]),
        ("tags.owner != 'ann'", [2]),
        ("tags.owner IS NULL", [4, 12, 0]),
        ("tags.team IS NOT NULL", [4, 1]),
        ("tags.team LIKE 'v%'", []),
        ("tags.team ILIKE 'v%' OR name = 'Default'", [1, 0]),
        ("tags.owner = 'bob' AND (creation_time < 150 OR name LIKE 'Exp%')", [2]),
    ],
)
def test_tags_and_or_filter_experiments(
    db: Engine, filter_string: str, expected: list[int]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.DELETED_ONLY, [3]),
        (ViewType.ALL, [2, 4, 12, 1, 3, 0]),
    ],
)
def test_view_type_selects_lifecycle_stages(
    db: Engine, view_type: ViewType, expected: list[int]
) -> None:
    assert search(db, view_type=view_type) == expected


@pytest.mark.parametrize(
    ("filter_string", "order_by", "expected"),
    [
        ("name LIKE 'exp%'", ["name DESC"], [4, 1, 12]),
        (None, ["experiment_id DESC"], [12, 4, 2, 1, 0]),  # as numbers
        (None, ["last_update_time ASC"], [12, 2, 1, 4, 0]),  # missing last
        (None, ["last_update_time DESC"], [1, 2, 12, 4, 0]),
        (None, ["creation_time ASC"], [1, 12, 2, 4, 0]),
    ],
)
def test_order_by_sorts_missing_values_last_and_breaks_ties(
    db: Engine, filter_string: str | None, order_by: list[str], expected: list[int]
) -> None:
    assert search(db, filter_string, order_by) == expected


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [(0, 2, [2, 4]), (1, 2, [4, 12]), (4, 2, [0]), (5, 2, [])],
)
def test_offset_and_limit_page_through_the_order(
    db: Engine, offset: int, limit: int, expected: list[int]
) -> None:
    assert search(db, offset=offset, limit=limit) == expected


@pytest.mark.parametrize(
    "filter_string",
    ["metrics.acc > 1", "params.lr = '1'", "creation_time IN ('1')", "name IS NULL"],
)
def test_run_only_filters_are_refused(filter_string: str) -> None:
    with pytest.raises(InvalidFilter):
        select_experiment_ids(filter_string, ViewType.ALL, None, 0, 10)


def test_order_by_a_tag_is_refused_as_mlflow_does() -> None:
    with pytest.raises(InvalidFilter, match=r"'tags\.owner'"):
        select_experiment_ids(None, ViewType.ALL, ["tags.owner"], 0, 10)
