"""Run searches compiled to SQL, checked against a handful of stored runs on
SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, insert

from kiln.entities import ViewType
from kiln.errors import InvalidFilter
from kiln.search.sql import select_run_ids
from kiln.store.sql.schema import (
    datasets,
    experiments,
    input_tags,
    latest_metrics,
    params,
    run_inputs,
    runs,
    tags,
)

# id, experiment, name, user, status, start, end, lifecycle stage
RUNS = [
    ("r1", 1, "alpha", "ann", "FINISHED", 1000, 2000, "active"),
    ("r2", 1, "beta", "bob", "FINISHED", 2000, 3000, "active"),
    ("r3", 1, "gamma", "ann", "FAILED", 2000, None, "active"),
    ("r4", 2, "delta", "cy", "RUNNING", 500, None, "active"),
    ("r5", 1, "eps", "ann", "FINISHED", 3000, 4000, "deleted"),
    ("r6", 1, "zeta", "bob", "RUNNING", None, None, "active"),
]
METRICS = {
    "r1": {"acc": 0.9, "loss": 0.1},
    "r2": {"acc": 0.5, "loss": math.nan},
    "r3": {"acc": 0.7},
    "r4": {"acc": 0.7, "loss": math.inf},
    "r5": {"acc": 0.95},
}
PARAMS = {
    "r1": {"lr": "0.01", "opt": "Adam", "path": "axb"},
    "r2": {"lr": "0.1", "opt": "adam"},
    "r3": {"lr": "0.01", "path": "a_b%"},
    "r4": {"lr": "1e-3", "path": "c:\\"},
    "r5": {"lr": "0.01"},
}
TAGS = {
    "r1": {"team": "Vision", "mlflow.user": "ann"},
    "r2": {"team": "vision", "my tag": "x"},
    "r4": {"team": "nlp"},
}
# dataset id, experiment, name, digest
DATASETS = [
    ("d1", 1, "mnist", "aaa"),
    ("d2", 1, "MNIST-eval", "bbb"),
    ("d3", 2, "imdb", "ccc"),
]
# run, dataset, context tag (None: no context tag)
INPUTS = [
    ("r1", "d1", "training"),
    ("r2", "d1", "training"),
    ("r2", "d2", "eval"),
    ("r4", "d3", None),
]

DEFAULT_ORDER = ["r2", "r3", "r1", "r4", "r6"]


@pytest.fixture(scope="module")
def db(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(
            insert(experiments),
            [
                {
                    "experiment_id": i,
                    "name": f"e{i}",
                    "artifact_location": f"/a/{i}",
                    "lifecycle_stage": "active",
                }
                for i in (1, 2)
            ],
        )
        conn.execute(
            insert(runs),
            [
                {
                    "run_id": run_id,
                    "experiment_id": exp,
                    "run_name": name,
                    "user_id": user,
                    "status": status,
                    "start_time": start,
                    "end_time": end,
                    "artifact_uri": f"s3://bucket/{run_id}"
                    if exp == 1
                    else f"file:///x/{run_id}",
                    "lifecycle_stage": stage,
                }
                for run_id, exp, name, user, status, start, end, stage in RUNS
            ],
        )
        conn.execute(
            insert(latest_metrics),
            [
                {
                    "run_id": run_id,
                    "key": key,
                    "step": 0,
                    "timestamp": 0,
                    "value": 0.0 if math.isnan(value) else value,
                    "is_nan": math.isnan(value),
                }
                for run_id, values in METRICS.items()
                for key, value in values.items()
            ],
        )
        for table, rows in ((params, PARAMS), (tags, TAGS)):
            conn.execute(
                insert(table),
                [
                    {"run_id": r, "key": k, "value": v}
                    for r, kv in rows.items()
                    for k, v in kv.items()
                ],
            )
        conn.execute(
            insert(datasets),
            [
                {
                    "dataset_id": d,
                    "experiment_id": e,
                    "name": n,
                    "digest": g,
                    "source_type": "local",
                    "source": "/data",
                }
                for d, e, n, g in DATASETS
            ],
        )
        conn.execute(
            insert(run_inputs), [{"run_id": r, "dataset_id": d} for r, d, _ in INPUTS]
        )
        conn.execute(
            insert(input_tags),
            [
                {"run_id": r, "dataset_id": d, "key": "mlflow.data.context", "value": c}
                for r, d, c in INPUTS
                if c is not None
            ],
        )
    return engine


def search(
    db: Engine,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    experiment_ids: Sequence[int] = (1, 2),
    offset: int = 0,
    limit: int = 100,
) -> list[str]:
    query = select_run_ids(
        experiment_ids, filter_string, view_type, order_by, offset, limit
    )
    with db.connect() as conn:
        return list(conn.execute(query).scalars())


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, DEFAULT_ORDER),
        ("", DEFAULT_ORDER),
        ("metrics.acc > 0.6", ["r3", "r1", "r4"]),
        ("metrics.acc = 0.7", ["r3", "r4"]),
        ("metric.acc >= 0.9", ["r1"]),
        ("metrics.missing < 1e9", []),
    ],
)
def test_metric_comparisons_use_the_latest_value(
    db: Engine, filter_string: str | None, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.loss != 0.1", ["r2", "r4"]),  # NaN is unequal to everything
        ("metrics.loss = 0", []),  # NaN is stored as 0 but is not 0
        ("metrics.loss >= 0", ["r1", "r4"]),
        ("metrics.loss < 1", ["r1"]),
        ("metrics.loss > 1e308", ["r4"]),  # infinity is larger than any number
    ],
)
def test_nan_matches_only_not_equal_and_infinity_compares_as_a_number(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.lr = '0.01'", ["r3", "r1"]),
        ("params.lr != '0.01'", ["r2", "r4"]),  # r6 has no lr: never matches
        ("params.opt = 'adam'", ["r2"]),
        ("params.opt LIKE 'A%'", ["r1"]),
        ("params.opt ILIKE 'A%'", ["r2", "r1"]),
        ("params.opt IS NULL", ["r3", "r4", "r6"]),
        ("params.opt IS NOT NULL", ["r2", "r1"]),
        ("tags.team LIKE '%ision'", ["r2", "r1"]),
        ("tags.team LIKE 'v%'", ["r2"]),
        ("tags.team ILIKE 'VISION'", ["r2", "r1"]),
        ("tags.team != 'nlp'", ["r2", "r1"]),
        ("tags.team IS NULL", ["r3", "r6"]),
        ("tags.`mlflow.user` = 'ann'", ["r1"]),
        ("tags.mlflow.user = 'ann'", ["r1"]),
        ('tags."my tag" = "x"', ["r2"]),
    ],
)
def test_params_and_tags_compare_strings(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (r"params.path LIKE 'a\_b%'", ["r3"]),  # backslash escapes a wildcard
        ("params.path LIKE 'a_b%'", ["r3", "r1"]),
        ("params.path LIKE 'c:\\'", ["r4"]),  # a lone trailing backslash is literal
        ("params.path ILIKE 'C:\\'", ["r4"]),
    ],
)
def test_like_patterns_escape_wildcards_with_a_backslash(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("run_id IN ('r1', 'r3', 'nope')", ["r3", "r1"]),
        ("run_id NOT IN ('r1', 'r3')", ["r2", "r4", "r6"]),
        ("attributes.status = 'RUNNING'", ["r4", "r6"]),
        ("status != 'RUNNING'", ["r2", "r3", "r1"]),
        ("run_name LIKE '_e%'", ["r2", "r4", "r6"]),
        ("`Run name` = 'beta'", ["r2"]),
        ("attr.user_id = 'ann'", ["r3", "r1"]),
        ("artifact_uri LIKE 's3://%'", ["r2", "r3", "r1", "r6"]),
        ("start_time >= 2000", ["r2", "r3"]),
        ("created < 1500", ["r1", "r4"]),
        ("end_time > 0", ["r2", "r1"]),
        ("start_time != 2000", ["r1", "r4"]),  # a missing start never matches
        ("run.start_time = 1000.0", ["r1"]),
        ("start_time > 999.5", ["r2", "r3", "r1"]),
    ],
)
def test_attributes_compare_run_columns(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("datasets.name = 'mnist'", ["r2", "r1"]),
        ("datasets.name LIKE 'MNIST%'", ["r2"]),
        ("dataset.name ILIKE 'mnist%'", ["r2", "r1"]),
        ("datasets.digest IN ('ccc')", ["r4"]),
        ("datasets.context = 'eval'", ["r2"]),
        ("datasets.context IN ('training', 'eval')", ["r2", "r1"]),
        ("datasets.name NOT IN ('mnist')", ["r2", "r4"]),  # any dataset may match
        ("datasets.name != 'mnist'", ["r2", "r4"]),
    ],
)
def test_datasets_match_when_any_input_matches(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.8 OR params.lr = '0.1'", ["r2", "r1"]),
        (
            "(params.lr = '0.01' OR params.lr = '0.1') AND metrics.acc < 0.8",
            ["r2", "r3"],
        ),
        # AND binds tighter: r1 OR (nothing), not (r1 OR r3) AND bob.
        ("metrics.acc > 0.8 OR params.lr = '0.01' AND user_id = 'bob'", ["r1"]),
        ("tags.team ILIKE 'VISION' and metrics.acc < 0.6", ["r2"]),
    ],
)
def test_or_and_parentheses_combine_conditions(
    db: Engine, filter_string: str, expected: list[str]
) -> None:
    assert search(db, filter_string) == expected


@pytest.mark.parametrize(
    ("view_type", "experiment_ids", "filter_string", "expected"),
    [
        (ViewType.DELETED_ONLY, (1, 2), None, ["r5"]),
        (ViewType.ALL, (1, 2), "metrics.acc >= 0.9", ["r5", "r1"]),
        (ViewType.ACTIVE_ONLY, (2,), None, ["r4"]),
        (ViewType.ACTIVE_ONLY, (), None, []),
    ],
)
def test_view_type_and_experiments_limit_the_runs_searched(
    db: Engine,
    view_type: ViewType,
    experiment_ids: tuple[int, ...],
    filter_string: str | None,
    expected: list[str],
) -> None:
    assert (
        search(db, filter_string, view_type=view_type, experiment_ids=experiment_ids)
        == expected
    )


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (
            ["metrics.acc DESC"],
            ["r1", "r3", "r4", "r2", "r6"],
        ),  # 0.7 tie: later start first
        (["metrics.acc"], ["r2", "r3", "r4", "r1", "r6"]),
        (["metrics.loss ASC"], ["r1", "r4", "r2", "r3", "r6"]),  # NaN and missing last
        (["metrics.loss DESC"], ["r4", "r1", "r2", "r3", "r6"]),
        (["params.lr ASC"], ["r3", "r1", "r2", "r4", "r6"]),
        (["start_time ASC"], ["r4", "r1", "r2", "r3", "r6"]),  # missing start last
        (["start_time DESC"], ["r2", "r3", "r1", "r4", "r6"]),
        (["created DESC"], ["r2", "r3", "r1", "r4", "r6"]),
        (["end_time DESC"], ["r2", "r1", "r3", "r4", "r6"]),
        (["run_name DESC"], ["r6", "r3", "r4", "r2", "r1"]),
        (["status ASC", "run_id DESC"], ["r3", "r2", "r1", "r6", "r4"]),
        (["metrics.acc DESC", "metrics.loss"], ["r1", "r4", "r3", "r2", "r6"]),
    ],
)
def test_order_by_sorts_missing_values_last_and_breaks_ties(
    db: Engine, order_by: list[str], expected: list[str]
) -> None:
    assert search(db, order_by=order_by) == expected


def test_order_by_applies_to_the_filtered_runs(db: Engine) -> None:
    assert search(db, "tags.team != 'Vision'", ["tags.team ASC"]) == ["r4", "r2"]
    assert search(db, "metrics.acc > 0.6", ["metrics.acc"]) == ["r3", "r4", "r1"]


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [(0, 2, ["r2", "r3"]), (2, 2, ["r1", "r4"]), (4, 2, ["r6"]), (5, 2, [])],
)
def test_offset_and_limit_page_through_the_order(
    db: Engine, offset: int, limit: int, expected: list[str]
) -> None:
    assert search(db, offset=offset, limit=limit) == expected


def test_a_bad_filter_raises_before_any_query_runs() -> None:
    with pytest.raises(InvalidFilter, match="'LIKE' at position 12"):
        select_run_ids([1], "metrics.acc LIKE '1'", ViewType.ALL, None, 0, 10)


def test_a_bad_order_by_raises_naming_the_clause() -> None:
    with pytest.raises(InvalidFilter, match=r"'datasets\.name'"):
        select_run_ids([1], None, ViewType.ALL, ["datasets.name"], 0, 10)
