"""Parsing filters into syntax trees, and refusing bad ones clearly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.errors import InvalidFilter, InvalidParameterValue
from kiln.search import (
    EXPERIMENTS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
    And,
    Comparison,
    Entity,
    Operator,
    Or,
    SearchSpec,
    parse_filter,
)
from kiln.search.grammar import (
    MAX_COMPARISONS,
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    MAX_VALUES,
)

M, P, T, A, D = (
    Entity.METRIC,
    Entity.PARAM,
    Entity.TAG,
    Entity.ATTRIBUTE,
    Entity.DATASET,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc > 0.9", Comparison(M, "acc", Operator.GT, 0.9)),
        ("metric.acc >= 1", Comparison(M, "acc", Operator.GE, 1.0)),
        ("metrics.loss<-1.5e-3", Comparison(M, "loss", Operator.LT, -0.0015)),
        ("metrics.`val loss` <= .5", Comparison(M, "val loss", Operator.LE, 0.5)),
        ('metrics."train/loss" != 2', Comparison(M, "train/loss", Operator.NE, 2.0)),
        ("metrics.train/loss = 2", Comparison(M, "train/loss", Operator.EQ, 2.0)),
        ("params.lr = '0.01'", Comparison(P, "lr", Operator.EQ, "0.01")),
        ('param.lr = "0.01"', Comparison(P, "lr", Operator.EQ, "0.01")),
        ("parameters.opt LIKE 'Ad%'", Comparison(P, "opt", Operator.LIKE, "Ad%")),
        ("parameter.opt ilike 'ad%'", Comparison(P, "opt", Operator.ILIKE, "ad%")),
        ("params.x is null", Comparison(P, "x", Operator.IS_NULL, None)),
        ("tags.x IS NOT NULL", Comparison(T, "x", Operator.IS_NOT_NULL, None)),
        ("tags.mlflow.user = 'ann'", Comparison(T, "mlflow.user", Operator.EQ, "ann")),
        ("tag.`my tag` = 'it''s'", Comparison(T, "my tag", Operator.EQ, "it's")),
        ("tags.and = 'x'", Comparison(T, "and", Operator.EQ, "x")),
        ("run_id IN ('a', 'b')", Comparison(A, "run_id", Operator.IN, ("a", "b"))),
        ("run_id not in ('a')", Comparison(A, "run_id", Operator.NOT_IN, ("a",))),
        (
            "attributes.status = 'FINISHED'",
            Comparison(A, "status", Operator.EQ, "FINISHED"),
        ),
        ("attr.user_id != 'x'", Comparison(A, "user_id", Operator.NE, "x")),
        ("run.run_name LIKE 'a%'", Comparison(A, "run_name", Operator.LIKE, "a%")),
        ("start_time > 10", Comparison(A, "start_time", Operator.GT, 10)),
        ("end_time < 1.5", Comparison(A, "end_time", Operator.LT, 1.5)),
        ("created >= 5", Comparison(A, "start_time", Operator.GE, 5)),
        ("Created >= 5", Comparison(A, "start_time", Operator.GE, 5)),
        ("`Run name` = 'x'", Comparison(A, "run_name", Operator.EQ, "x")),
        ("\"Run Name\" = 'x'", Comparison(A, "run_name", Operator.EQ, "x")),
        ("datasets.name = 'mnist'", Comparison(D, "name", Operator.EQ, "mnist")),
        ("dataset.digest IN ('a')", Comparison(D, "digest", Operator.IN, ("a",))),
        (
            "datasets.context NOT IN ('eval')",
            Comparison(D, "context", Operator.NOT_IN, ("eval",)),
        ),
    ],
)
def test_run_filters_parse_to_comparisons(text: str, expected: Comparison) -> None:
    assert parse_filter(text, RUNS) == expected


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_blank_filters_mean_no_filter(text: str | None) -> None:
    assert parse_filter(text, RUNS) is None


def test_and_binds_tighter_than_or() -> None:
    a = Comparison(M, "a", Operator.GT, 1.0)
    b = Comparison(M, "b", Operator.GT, 2.0)
    c = Comparison(M, "c", Operator.GT, 3.0)
    assert parse_filter("metrics.a > 1 OR metrics.b > 2 AND metrics.c > 3", RUNS) == Or(
        (a, And((b, c)))
    )
    assert parse_filter(
        "(metrics.a > 1 or metrics.b > 2) and metrics.c > 3", RUNS
    ) == And((Or((a, b)), c))
    assert parse_filter(
        "metrics.a > 1 and metrics.b > 2 and metrics.c > 3", RUNS
    ) == And((a, b, c))
    assert parse_filter("((metrics.a > 1))", RUNS) == a


def test_a_huge_integer_attribute_value_becomes_a_float() -> None:
    tree = parse_filter("start_time < 99999999999999999999", RUNS)
    assert tree == Comparison(A, "start_time", Operator.LT, 1e20)


# (filter, the bad token as quoted in the message, its position, expected)
INVALID_RUN_FILTERS = [
    ("metrics.acc > abc", "'abc'", 14, "an unquoted number"),
    ("metrics.acc = '0.5'", "\"'0.5'\"", 14, "an unquoted number"),
    ("metrics.acc LIKE '1'", "'LIKE'", 12, "one of =, !=, <, <=, >, >="),
    ("metrics.acc IS NULL", "'IS'", 12, "one of =, !="),
    ("params.lr = 0.01", "'0.01'", 12, "a quoted string"),
    ("params.lr > '1'", "'>'", 10, "one of =, !=, LIKE, ILIKE, IS NULL"),
    ("params.lr IN ('1')", "'IN'", 10, "one of =, !=, LIKE, ILIKE"),
    (
        "status IN ('a')",
        "'IN'",
        7,
        "one of =, !=, LIKE, ILIKE for the attribute 'status'",
    ),
    ("start_time IN ('1')", "'IN'", 11, "one of =, !=, <"),
    ("start_time = '1'", "\"'1'\"", 13, "an unquoted number"),
    ("start_time IS NULL", "'IS'", 11, "one of =, !="),
    ("run_name IS NULL", "'IS'", 9, "one of =, !=, LIKE, ILIKE"),
    (
        "datasets.name IS NULL",
        "'IS'",
        14,
        "one of =, !=, LIKE, ILIKE, IN, NOT IN for datasets.name",
    ),
    ("foo = 'x'", "'foo'", 0, "an attribute of runs"),
    ("lifecycle_stage = 'active'", "'lifecycle_stage'", 0, "an attribute of runs"),
    ("x.y = 'a'", "'x.y'", 0, "a known prefix"),
    (
        "datasets.foo = 'a'",
        "'datasets.foo'",
        0,
        "a dataset key among context, digest, name",
    ),
    ("metrics. > 1", "'>'", 9, "a key after 'metrics.'"),
    ("metrics.`` > 1", "'metrics.'", 0, "a non-empty key"),
    ("metrics.acc", "the end of the filter", 11, "an operator"),
    ("metrics.acc >", "the end of the filter", 13, "an unquoted number"),
    ("metrics.acc == 1", "'=='", 12, "an operator"),
    ("metrics.acc <> 1", "'<>'", 12, "an operator"),
    ("params.x NOT LIKE 'a'", "'LIKE'", 13, "IN after NOT"),
    ("params.x IS NUL", "'NUL'", 12, "NULL after IS"),
    ("params.x IS NOT 'a'", "\"'a'\"", 16, "NULL after IS NOT"),
    ("run_id IN 'a'", "\"'a'\"", 10, "'(' to start a list"),
    ("run_id IN ()", "')'", 11, "a quoted string in the list"),
    ("run_id IN ('a' 'b')", "\"'b'\"", 15, "',' or ')'"),
    ("run_id IN ('a',)", "')'", 15, "a quoted string in the list"),
    ("run_id IN (1)", "'1'", 11, "a quoted string in the list"),
    ("metrics.a > 1 metrics.b < 2", "'metrics.b'", 14, "AND, OR or the end"),
    ("metrics.a > 1 AND", "the end of the filter", 17, "an attribute or"),
    ("metrics.a > 1 OR OR metrics.b > 1", "'OR'", 17, "an attribute of runs"),
    (
        "(metrics.a > 1",
        "the end of the filter",
        14,
        "')' to close the '(' at position 0",
    ),
    ("metrics.a > 1)", "')'", 13, "AND, OR or the end"),
    ("() ", "')'", 1, "an attribute or"),
    ("AND metrics.a > 1", "'AND'", 0, "an attribute of runs"),
    ("5 = 5", "'5'", 0, "an attribute or"),
    ("'name' = 'x'", "\"'name'\"", 0, "an attribute or"),
]


@pytest.mark.parametrize(("text", "token", "position", "expected"), INVALID_RUN_FILTERS)
def test_invalid_run_filters_name_the_token_position_and_expectation(
    text: str, token: str, position: int, expected: str
) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text, RUNS)
    message = str(info.value)
    assert f"found {token} at position {position};" in message
    assert f"expected {expected}" in message
    assert message.startswith("Invalid filter") and message.endswith(".")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("params.a = 'b", 'the quote "\'" at position 11 is never closed'),
        ('params.a = "b', "the quote '\"' at position 11 is never closed"),
        ("metrics.`a > 1", "the quote '`' at position 8 is never closed"),
        ("metrics.a > 1 ; drop table runs", "unexpected character ';' at position 14"),
        ("metrics.a > 1 && metrics.b > 1", "unexpected character '&' at position 14"),
        ("metrics.a > -x", "unexpected character '-' at position 12"),
    ],
)
def test_characters_outside_the_language_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(fragment)):
        parse_filter(text, RUNS)


def test_invalid_filter_is_an_invalid_parameter_value() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        parse_filter("bogus", RUNS)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.http_status == 400


def test_long_tokens_are_shortened_in_messages() -> None:
    value = "x" * 5000
    with pytest.raises(InvalidFilter) as info:
        parse_filter(f"metrics.a > '{value}'", RUNS)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("metrics.a > 1" + " " * MAX_FILTER_LENGTH, f"at most {MAX_FILTER_LENGTH}"),
        (
            " AND ".join(["metrics.a > 1"] * (MAX_COMPARISONS + 1)),
            f"at most {MAX_COMPARISONS} comparisons",
        ),
        (
            "run_id IN (" + ", ".join(["'a'"] * (MAX_VALUES + 1)) + ")",
            f"at most {MAX_VALUES} values",
        ),
        (
            "(" * (MAX_NESTING + 1) + "metrics.a > 1" + ")" * (MAX_NESTING + 1),
            f"at most {MAX_NESTING} nested parentheses",
        ),
        ("(" * 100_000, "at most"),
    ],
    ids=["length", "comparisons", "values", "nesting", "deep-nesting"],
)
def test_oversized_filters_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(fragment)):
        parse_filter(text, RUNS)


def test_the_largest_allowed_filter_parses() -> None:
    text = " OR ".join(["metrics.a > 1"] * MAX_COMPARISONS)
    tree = parse_filter(text, RUNS)
    assert isinstance(tree, Or) and len(tree.operands) == MAX_COMPARISONS


@pytest.mark.parametrize(
    ("spec", "text", "expected"),
    [
        (EXPERIMENTS, "name = 'a'", Comparison(A, "name", Operator.EQ, "a")),
        (
            EXPERIMENTS,
            "attribute.name ILIKE 'a%'",
            Comparison(A, "name", Operator.ILIKE, "a%"),
        ),
        (
            EXPERIMENTS,
            "experiment_id IN ('1')",
            Comparison(A, "experiment_id", Operator.IN, ("1",)),
        ),
        (
            EXPERIMENTS,
            "creation_time > 5",
            Comparison(A, "creation_time", Operator.GT, 5),
        ),
        (
            EXPERIMENTS,
            "last_update_time <= 5",
            Comparison(A, "last_update_time", Operator.LE, 5),
        ),
        (EXPERIMENTS, "tags.x IS NULL", Comparison(T, "x", Operator.IS_NULL, None)),
        (
            REGISTERED_MODELS,
            "name IN ('a')",
            Comparison(A, "name", Operator.IN, ("a",)),
        ),
        (REGISTERED_MODELS, "tags.t LIKE 'a'", Comparison(T, "t", Operator.LIKE, "a")),
        (
            MODEL_VERSIONS,
            "run_id IN ('a')",
            Comparison(A, "run_id", Operator.IN, ("a",)),
        ),
        (
            MODEL_VERSIONS,
            "source_path LIKE 'a%'",
            Comparison(A, "source_path", Operator.LIKE, "a%"),
        ),
        (
            MODEL_VERSIONS,
            "version_number >= 2",
            Comparison(A, "version_number", Operator.GE, 2),
        ),
        (MODEL_VERSIONS, "tags.t != 'a'", Comparison(T, "t", Operator.NE, "a")),
    ],
)
def test_each_search_accepts_its_own_identifiers(
    spec: SearchSpec, text: str, expected: Comparison
) -> None:
    assert parse_filter(text, spec) == expected


@pytest.mark.parametrize(
    ("spec", "text", "token"),
    [
        (EXPERIMENTS, "metrics.a > 1", "'metrics.a'"),
        (EXPERIMENTS, "params.a = 'b'", "'params.a'"),
        (EXPERIMENTS, "datasets.name = 'b'", "'datasets.name'"),
        (EXPERIMENTS, "name IN ('a')", "'IN'"),
        (EXPERIMENTS, "run_id = 'a'", "'run_id'"),
        (EXPERIMENTS, "creation_time = '5'", "\"'5'\""),
        (REGISTERED_MODELS, "tags.t IS NULL", "'IS'"),
        (REGISTERED_MODELS, "creation_timestamp > 1", "'creation_timestamp'"),
        (REGISTERED_MODELS, "metrics.a > 1", "'metrics.a'"),
        (MODEL_VERSIONS, "current_stage = 'Production'", "'current_stage'"),
        (MODEL_VERSIONS, "source_path IN ('a')", "'IN'"),
        (MODEL_VERSIONS, "version_number = '2'", "\"'2'\""),
        (MODEL_VERSIONS, "tags.t IS NOT NULL", "'IS'"),
    ],
)
def test_each_search_refuses_what_mlflow_refuses(
    spec: SearchSpec, text: str, token: str
) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(f"found {token} at position")):
        parse_filter(text, spec)


def test_experiment_messages_list_only_the_prefixes_experiments_accept() -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter("metrics.a > 1", EXPERIMENTS)
    assert "tags.<key>" in str(info.value)
    assert "params.<key>" not in str(info.value)


_FILTER_PIECES = st.sampled_from(
    [
        "metrics.a",
        "params.`p q`",
        'tags."t"',
        "run_id",
        "start_time",
        "created",
        "datasets.name",
        "x.y",
        "=",
        "!=",
        "<",
        ">=",
        "LIKE",
        "ilike",
        "IN",
        "NOT",
        "IS",
        "NULL",
        "AND",
        "OR",
        "(",
        ")",
        ",",
        "'v'",
        '"w"',
        "'",
        "`",
        "1",
        "-2.5e3",
        ".",
        "1e999",
        "$",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FILTER_PIECES, max_size=12).map(" ".join) | st.text(max_size=80))
def test_any_text_either_parses_or_raises_invalid_filter(text: str) -> None:
    for spec in (RUNS, EXPERIMENTS, REGISTERED_MODELS, MODEL_VERSIONS):
        try:
            parse_filter(text, spec)
        except InvalidFilter as exc:
            assert exc.message.startswith("Invalid filter")
