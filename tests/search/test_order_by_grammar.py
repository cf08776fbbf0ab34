"""Parsing ``order_by`` clauses for each kind of search."""

from __future__ import annotations

import re

import pytest

from kiln.errors import InvalidFilter
from kiln.search import (
    EXPERIMENTS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
    Entity,
    OrderClause,
    SearchSpec,
    parse_order_by,
)
from kiln.search.grammar import MAX_ORDER_CLAUSE_LENGTH, MAX_ORDER_CLAUSES

M, P, T, A = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE


@pytest.mark.parametrize(
    ("spec", "clause", "expected"),
    [
        (RUNS, "metrics.acc", OrderClause(M, "acc", ascending=True)),
        (RUNS, "metrics.acc DESC", OrderClause(M, "acc", ascending=False)),
        (RUNS, "  metric.`val loss`   desc ", OrderClause(M, "val loss", False)),
        (RUNS, 'params."learning rate" ASC', OrderClause(P, "learning rate", True)),
        (RUNS, "tags.mlflow.user asc", OrderClause(T, "mlflow.user", True)),
        (RUNS, "start_time DESC", OrderClause(A, "start_time", False)),
        (RUNS, "attributes.run_id", OrderClause(A, "run_id", True)),
        (RUNS, "created", OrderClause(A, "start_time", True)),
        (RUNS, "`Run name` DESC", OrderClause(A, "run_name", False)),
        (EXPERIMENTS, "name", OrderClause(A, "name", True)),
        (EXPERIMENTS, "experiment_id DESC", OrderClause(A, "experiment_id", False)),
        (EXPERIMENTS, "last_update_time", OrderClause(A, "last_update_time", True)),
        (
            REGISTERED_MODELS,
            "timestamp DESC",
            OrderClause(A, "creation_timestamp", False),
        ),
        (
            REGISTERED_MODELS,
            "last_updated_timestamp",
            OrderClause(A, "last_updated_timestamp", True),
        ),
        (
            MODEL_VERSIONS,
            "version_number DESC",
            OrderClause(A, "version_number", False),
        ),
        (
            MODEL_VERSIONS,
            "creation_timestamp",
            OrderClause(A, "creation_timestamp", True),
        ),
    ],
)
def test_order_clauses_parse(
    spec: SearchSpec, clause: str, expected: OrderClause
) -> None:
    assert parse_order_by([clause], spec) == (expected,)


@pytest.mark.parametrize("order_by", [None, []])
def test_no_order_by_gives_no_clauses(order_by: list[str] | None) -> None:
    assert parse_order_by(order_by, RUNS) == ()


def test_several_clauses_keep_their_order() -> None:
    assert parse_order_by(["metrics.a DESC", "params.b"], RUNS) == (
        OrderClause(M, "a", False),
        OrderClause(P, "b", True),
    )


@pytest.mark.parametrize(
    ("spec", "clause", "fragment"),
    [
        (
            RUNS,
            "metrics.acc UP",
            "clause 'metrics.acc UP': found 'UP' at position 12; expected ASC, DESC",
        ),
        (RUNS, "metrics.acc DESC ASC", "found 'ASC' at position 17"),
        (RUNS, "metrics.acc,", "found ',' at position 11"),
        (RUNS, "datasets.name", "found 'datasets.name' at position 0"),
        (
            RUNS,
            "lifecycle_stage",
            "found 'lifecycle_stage' at position 0; expected an attribute of runs",
        ),
        (RUNS, "metrics.", "found the end of the order_by clause at position 8"),
        (RUNS, "DESC", "found 'DESC' at position 0"),
        (RUNS, "metrics.a > 1", "found '>' at position 10"),
        (EXPERIMENTS, "tags.owner", "found 'tags.owner' at position 0"),
        (EXPERIMENTS, "metrics.acc", "found 'metrics.acc' at position 0"),
        (
            REGISTERED_MODELS,
            "creation_timestamp",
            "found 'creation_timestamp' at position 0",
        ),
        (MODEL_VERSIONS, "run_id", "found 'run_id' at position 0"),
    ],
)
def test_bad_clauses_name_the_clause_and_token(
    spec: SearchSpec, clause: str, fragment: str
) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(fragment)):
        parse_order_by([clause], spec)


@pytest.mark.parametrize("clause", ["", "   "])
def test_blank_clauses_are_refused(clause: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape("'<identifier> [ASC|DESC]'")):
        parse_order_by([clause], RUNS)


def test_too_many_or_too_long_clauses_are_refused() -> None:
    with pytest.raises(InvalidFilter, match=f"at most {MAX_ORDER_CLAUSES}"):
        parse_order_by(["start_time"] * (MAX_ORDER_CLAUSES + 1), RUNS)
    with pytest.raises(InvalidFilter, match=f"at most {MAX_ORDER_CLAUSE_LENGTH}"):
        parse_order_by(["metrics." + "a" * MAX_ORDER_CLAUSE_LENGTH], RUNS)
