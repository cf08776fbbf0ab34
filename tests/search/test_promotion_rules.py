"""Parsing promotion rules and checking them against plain run data."""

from __future__ import annotations

import math

import pytest

from kiln.errors import InvalidFilter, InvalidParameterValue
from kiln.search.evaluation import Holder, RunValues, rule_failures
from kiln.search.rules import (
    MAX_RULE_LENGTH,
    AllOf,
    AnyOf,
    Condition,
    Reference,
    parse_rule,
)
from kiln.search.syntax import Comparison, Entity, Operator

M, P, T, A = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE
RULE = (
    "metrics.val_auc >= 0.9 AND tags.validated = 'true' "
    "AND metrics.val_auc >= current.metrics.val_auc"
)


def _run(run_id: str = "cand", **values: object) -> RunValues:
    """A run from ``metrics=…, params=…, tags=…, attributes=…`` keywords."""
    return RunValues(run_id, **values)  # type: ignore[arg-type]


def _failures(
    rule: str, candidate: RunValues, holder: Holder | None = None
) -> list[str]:
    return rule_failures(parse_rule(rule), candidate, holder)


# -- parsing ------------------------------------------------------------------
def test_top_level_and_splits_into_conditions_with_their_text() -> None:
    rule = parse_rule(RULE)
    assert [c.text for c in rule.conditions] == [
        "metrics.val_auc >= 0.9",
        "tags.validated = 'true'",
        "metrics.val_auc >= current.metrics.val_auc",
    ]
    assert rule.conditions[0] == Condition(
        Comparison(M, "val_auc", Operator.GE, 0.9), "metrics.val_auc >= 0.9"
    )
    third = rule.conditions[2]
    assert isinstance(third, Condition)
    assert third.reference == Reference(M, "val_auc")
    assert third.comparison == Comparison(M, "val_auc", Operator.GE, None)
    assert rule.uses_current
    assert rule.keys(M) == {"val_auc"} and rule.keys(T) == {"validated"}


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("params.lr = current.params.lr", Reference(P, "lr")),
        ("tags.team != current.tags.team", Reference(T, "team")),
        ("params.lr = CURRENT.parameters.rate", Reference(P, "rate")),
        ("metrics.`val auc` > current.metrics.`val auc`", Reference(M, "val auc")),
        ("metrics.loss < current.metric.loss", Reference(M, "loss")),
        ("start_time > current.metrics.t", Reference(M, "t")),
        ("run_name = current.tags.name", Reference(T, "name")),
    ],
)
def test_current_references_on_the_right(text: str, reference: Reference) -> None:
    (condition,) = parse_rule(text).conditions
    assert isinstance(condition, Condition)
    assert condition.reference == reference and condition.text == text


def test_groups_keep_their_parentheses_in_their_text() -> None:
    rule = parse_rule("(metrics.a > 1 OR tags.b = 'x') AND (params.c = 'd')")
    group, single = rule.conditions
    assert isinstance(group, AnyOf)
    assert group.text == "(metrics.a > 1 OR tags.b = 'x')"
    assert isinstance(single, Condition) and single.text == "params.c = 'd'"
    assert not rule.uses_current
    assert rule.keys(P) == {"c"} and rule.keys(M) == {"a"}


def test_a_rule_wholly_in_parentheses_still_splits() -> None:
    rule = parse_rule("(metrics.a > 1 AND tags.b = 'x')")
    assert [c.text for c in rule.conditions] == ["metrics.a > 1", "tags.b = 'x'"]


def test_nested_and_inside_or_is_a_group() -> None:
    (node,) = parse_rule("metrics.a > 1 AND tags.b = 'x' OR tags.c = 'y'").conditions
    assert isinstance(node, AnyOf)
    assert isinstance(node.operands[0], AllOf)
    assert node.operands[0].text == "metrics.a > 1 AND tags.b = 'x'"


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("current.metrics.a > 1", 0, "current. may only stand on the right"),
        ("metrics.a > 1 AND current.tags.x = 'y'", 18, "on the right"),
        ("metrics.a > current.params.a", 12, "a number or current.metrics.<key>"),
        ("params.a = current.metrics.a", 11, "current.params.<key> or current.tags"),
        ("params.a LIKE current.params.a", 14, "compare with = and != only"),
        ("tags.a ILIKE current.tags.a", 13, "compare with = and != only"),
        ("run_id IN ('a', current.tags.x)", 16, "not a current. value"),
        ("run_id IN current.tags.x", 10, "cannot stand for a list"),
        ("metrics.a > current.metrics", 12, "current.metrics.<key>"),
        ("metrics.a > current.datasets.name", 12, "current.metrics.<key>"),
        ("metrics.a > current.metrics.", 28, "a key after"),
        ("tags.x IS NULL current.tags.y", 15, "AND, OR or the end of the rule"),
        ("datasets.name = 'x'", 0, "not datasets"),
        ("metrics.a LIKE 'x'", 10, "one of =, !=, <, <=, >, >="),
        ("metrics.a >", 11, "an unquoted number"),
        ("tags.x = 'y' AND", 16, "an attribute or"),
        ("(metrics.a > 1", 14, "')' to close"),
        ("metrics.a > 1 tags.b = 'x'", 14, "AND, OR or the end"),
        ("tags.x = 'unclosed", 9, "never closed"),
    ],
)
def test_bad_rules_point_at_the_token(text: str, position: int, expected: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_rule(text)
    message = caught.value.message
    assert message.startswith("Invalid promotion rule")
    assert expected in message
    assert f"position {position}" in message


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_rules_are_refused(text: str) -> None:
    with pytest.raises(InvalidParameterValue, match="it is empty"):
        parse_rule(text)


@pytest.mark.parametrize("text", [None, ["metrics.a > 1"], 3])
def test_rules_that_are_not_strings_are_refused(text: object) -> None:
    with pytest.raises(InvalidFilter, match="expected the rule as a string"):
        parse_rule(text)  # type: ignore[arg-type]


def test_overlong_rules_are_refused() -> None:
    with pytest.raises(InvalidFilter, match=f"at most {MAX_RULE_LENGTH}"):
        parse_rule("tags.x = '" + "y" * MAX_RULE_LENGTH + "'")


# -- checking -----------------------------------------------------------------
def test_a_rule_that_holds_has_no_failures() -> None:
    candidate = _run(metrics={"val_auc": 0.95}, tags={"validated": "true"})
    holder = Holder(2, _run("held", metrics={"val_auc": 0.93}))
    assert _failures(RULE, candidate, holder) == []


def test_each_failing_condition_is_named_with_its_values() -> None:
    candidate = _run(metrics={"val_auc": 0.85}, tags={"validated": "false"})
    holder = Holder(2, _run("held", metrics={"val_auc": 0.91}))
    assert _failures(RULE, candidate, holder) == [
        "metrics.val_auc >= 0.9 failed: run cand has val_auc = 0.85",
        "tags.validated = 'true' failed: run cand has tag validated = 'false'",
        "metrics.val_auc >= current.metrics.val_auc failed: run cand has "
        "val_auc = 0.85, and the current holder, version 2 (run held), has "
        "val_auc = 0.91",
    ]


def test_missing_values_are_named_as_missing() -> None:
    assert _failures(RULE, _run()) == [
        "metrics.val_auc >= 0.9 failed: run cand has no metric val_auc",
        "tags.validated = 'true' failed: run cand has no tag validated",
        "metrics.val_auc >= current.metrics.val_auc failed: run cand has no "
        "metric val_auc",
    ]


def test_current_conditions_hold_when_no_version_holds_the_alias() -> None:
    rule = "metrics.a >= current.metrics.a AND params.p = current.params.p"
    candidate = _run(metrics={"a": 0.1}, params={"p": "x"})
    assert _failures(rule, candidate, None) == []


def test_current_conditions_fail_when_the_holder_lacks_the_value() -> None:
    candidate = _run(metrics={"a": 0.5})
    holder = Holder(4, _run("held"))
    assert _failures("metrics.a > current.metrics.a", candidate, holder) == [
        "metrics.a > current.metrics.a failed: run cand has a = 0.5, and the "
        "current holder, version 4 (run held), has no metric a"
    ]


def test_current_conditions_fail_when_the_holder_has_no_source_run() -> None:
    candidate = _run(tags={"team": "x"})
    assert _failures("tags.team = current.tags.team", candidate, Holder(1, None)) == [
        "tags.team = current.tags.team failed: run cand has tag team = 'x', and "
        "the current holder, version 1, has no source run"
    ]


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("params.lr = current.params.lr", True),
        ("params.lr != current.params.lr", False),
        ("tags.team = current.tags.team", False),
        ("tags.team != current.tags.team", True),
        ("metrics.a = current.metrics.a", True),
        ("metrics.a < current.metrics.b", True),
        ("metrics.a > current.metrics.b", False),
    ],
)
def test_current_comparisons(rule: str, holds: bool) -> None:
    candidate = _run(metrics={"a": 1.0}, params={"lr": "0.1"}, tags={"team": "a"})
    holder = Holder(
        1,
        _run(
            "held",
            metrics={"a": 1.0, "b": 2.0},
            params={"lr": "0.1"},
            tags={"team": "b"},
        ),
    )
    assert (_failures(rule, candidate, holder) == []) is holds


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("metrics.m = 0.5", True),
        ("metrics.m != 0.5", False),
        ("metrics.m < 0.6", True),
        ("metrics.m <= 0.5", True),
        ("metrics.m > 0.5", False),
        ("metrics.m >= 0.5", True),
        ("metrics.m > -1e3", True),
        ("params.p = 'Adam'", True),
        ("params.p != 'Adam'", False),
        ("params.p LIKE 'Ad%'", True),
        ("params.p LIKE 'ad%'", False),
        ("params.p ILIKE 'ad%'", True),
        ("params.p LIKE 'A_am'", True),
        ("params.p LIKE 'A_m'", False),
        ("tags.pct LIKE '50\\%'", True),
        ("tags.pct LIKE '5_\\%'", True),
        ("tags.pct LIKE '500'", False),
        ("tags.dots LIKE 'a.c'", True),
        ("tags.dots LIKE 'abc'", False),
        ("tags.x IS NULL", True),
        ("tags.x IS NOT NULL", False),
        ("tags.pct IS NOT NULL", True),
        ("params.x != 'y'", False),
        ("status = 'FINISHED'", True),
        ("attributes.status != 'FINISHED'", False),
        ("run_id IN ('cand', 'other')", True),
        ("run_id NOT IN ('cand')", False),
        ("start_time > 100", True),
        ("start_time < 100", False),
        ("end_time > 0", False),
        ("created >= 1000", True),
        ("run_name ILIKE 'BEST%'", True),
    ],
)
def test_each_operator_means_what_it_means_in_search(rule: str, holds: bool) -> None:
    candidate = _run(
        metrics={"m": 0.5},
        params={"p": "Adam"},
        tags={"pct": "50%", "dots": "a.c"},
        attributes={
            "status": "FINISHED",
            "run_id": "cand",
            "run_name": "best-run",
            "start_time": 1000,
            "end_time": None,
        },
    )
    assert (_failures(rule, candidate) == []) is holds


@pytest.mark.parametrize(
    ("rule", "holds"),
    [
        ("metrics.m != 1", True),
        ("metrics.m = 1", False),
        ("metrics.m < 1", False),
        ("metrics.m >= 1", False),
    ],
)
def test_nan_matches_only_not_equal(rule: str, holds: bool) -> None:
    assert (_failures(rule, _run(metrics={"m": math.nan})) == []) is holds


def test_nan_is_shown_as_nan() -> None:
    (failure,) = _failures("metrics.m > 1", _run(metrics={"m": math.nan}))
    assert failure == "metrics.m > 1 failed: run cand has m = NaN"


def test_infinities_compare_as_extremes() -> None:
    assert _failures("metrics.m > 1e308", _run(metrics={"m": math.inf})) == []
    assert _failures("metrics.m < -1e308", _run(metrics={"m": -math.inf})) == []


def test_null_checks_name_the_value_they_found() -> None:
    candidate = _run(tags={"reviewed": "ann"})
    assert _failures("tags.reviewed IS NULL", candidate) == [
        "tags.reviewed IS NULL failed: run cand has tag reviewed = 'ann'"
    ]
    assert _failures("params.p IS NOT NULL", candidate) == [
        "params.p IS NOT NULL failed: run cand has no param p"
    ]


def test_missing_attribute_values_are_named() -> None:
    candidate = _run(attributes={"end_time": None})
    assert _failures("end_time > 5", candidate) == [
        "end_time > 5 failed: run cand has no end_time"
    ]


def test_a_failing_or_names_each_alternative() -> None:
    rule = "(metrics.a > 1 OR tags.b = 'x') AND params.c = 'd'"
    candidate = _run(metrics={"a": 0.5}, params={"c": "d"})
    assert _failures(rule, candidate) == [
        "(metrics.a > 1 OR tags.b = 'x') failed: none holds: metrics.a > 1 "
        "(run cand has a = 0.5); tags.b = 'x' (run cand has no tag b)"
    ]
    assert _failures(rule, _run(metrics={"a": 2.0}, params={"c": "d"})) == []


def test_a_failing_group_of_and_names_only_its_failing_parts() -> None:
    rule = "(metrics.a > 1 AND tags.b = 'x') OR tags.override = 'yes'"
    candidate = _run(metrics={"a": 2.0}, tags={"b": "y"})
    assert _failures(rule, candidate) == [
        "(metrics.a > 1 AND tags.b = 'x') OR tags.override = 'yes' failed: none "
        "holds: (metrics.a > 1 AND tags.b = 'x') (tags.b = 'x' (run cand has tag "
        "b = 'y')); tags.override = 'yes' (run cand has no tag override)"
    ]
    assert _failures(rule, _run(tags={"override": "yes"})) == []
