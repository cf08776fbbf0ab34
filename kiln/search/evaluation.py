"""Check a promotion rule against plain run data, explaining each failure.

:func:`rule_failures` is a pure function: the store loads what the rule
reads of the candidate's source run and of the current holder's, and gets
back one message per top-level condition that does not hold, naming the
values it saw. Comparisons mean what they mean in a run search
(:mod:`kiln.search.sql.runs`):

* a metric is the run's latest value; NaN matches ``!=`` and nothing else;
* a run without the metric, param, tag or attribute value meets no
  comparison, not even ``!=``; only ``IS NULL`` holds for it;
* ``LIKE`` is case-sensitive and ``ILIKE`` is not; ``%`` and ``_`` are
  wildcards and a backslash escapes them.

A ``current.`` comparison holds when no version holds the alias yet. When
one does, it fails if that version has no source run or its run lacks the
value: there is then nothing to be at least as good as.
"""

from __future__ import annotations

import functools
import math
import operator as operator_module
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from kiln.search.rules import AllOf, AnyOf, Condition, Rule, RuleNode
from kiln.search.syntax import Entity, Operator

__all__ = ["Holder", "RunValues", "rule_failures"]

#: A value a rule reads: a metric or numeric attribute, a string, or None
#: when the run lacks it.
Found: TypeAlias = float | int | str | None


def _no_values() -> Mapping[str, float]:
    return {}


def _no_strings() -> Mapping[str, str]:
    return {}


def _no_attributes() -> Mapping[str, str | int | None]:
    return {}


@dataclass(frozen=True, slots=True)
class RunValues:
    """What a rule may read of one run.

    ``metrics`` are latest values (NaN as ``float("nan")``); ``attributes``
    are the run's columns by canonical name (``status``, ``start_time``…).
    Only the keys a rule names need to be present.
    """

    run_id: str
    metrics: Mapping[str, float] = field(default_factory=_no_values)
    params: Mapping[str, str] = field(default_factory=_no_strings)
    tags: Mapping[str, str] = field(default_factory=_no_strings)
    attributes: Mapping[str, str | int | None] = field(default_factory=_no_attributes)

    def get(self, entity: Entity, key: str) -> Found:
        """The run's value of ``entity.key``, or None when it has none."""
        if entity is Entity.METRIC:
            return self.metrics.get(key)
        if entity is Entity.PARAM:
            return self.params.get(key)
        if entity is Entity.TAG:
            return self.tags.get(key)
        return self.attributes.get(key)


@dataclass(frozen=True, slots=True)
class Holder:
    """The version an alias points at now, with its source run's values
    (None when the version has no source run)."""

    version: int
    run: RunValues | None


def rule_failures(rule: Rule, candidate: RunValues, holder: Holder | None) -> list[str]:
    """One message per top-level condition of ``rule`` that ``candidate``
    fails, in the rule's order; an empty list when the rule holds.

    ``holder`` is the version the alias points at now, or None when it
    points at none (then every ``current.`` comparison holds).
    """
    failures: list[str] = []
    for node in rule.conditions:
        why = _why_not(node, candidate, holder)
        if why is not None:
            failures.append(f"{node.text} failed: {why}")
    return failures


def _why_not(node: RuleNode, candidate: RunValues, holder: Holder | None) -> str | None:
    """Why ``node`` does not hold, or None when it does."""
    if isinstance(node, Condition):
        return _why_condition_fails(node, candidate, holder)
    reasons = [(child, _why_not(child, candidate, holder)) for child in node.operands]
    failed = [f"{child.text} ({why})" for child, why in reasons if why is not None]
    if isinstance(node, AllOf):
        return "; ".join(failed) if failed else None
    if isinstance(node, AnyOf) and len(failed) == len(node.operands):
        return "none holds: " + "; ".join(failed)
    return None


def _why_condition_fails(
    condition: Condition, candidate: RunValues, holder: Holder | None
) -> str | None:
    comparison = condition.comparison
    entity, key, operator = comparison.entity, comparison.key, comparison.operator
    value = candidate.get(entity, key)
    mine = f"run {candidate.run_id} {_has(entity, key, value)}"

    if operator is Operator.IS_NULL:
        return None if value is None else mine
    if operator is Operator.IS_NOT_NULL:
        return mine if value is None else None
    if value is None:
        return mine

    reference = condition.reference
    if reference is None:
        return None if _holds(operator, value, comparison.value) else mine
    if holder is None:
        return None
    if holder.run is None:
        return (
            f"{mine}, and the current holder, version {holder.version}, has no "
            "source run"
        )
    theirs = holder.run.get(reference.entity, reference.key)
    holder_has = (
        f"the current holder, version {holder.version} (run {holder.run.run_id}), "
        f"{_has(reference.entity, reference.key, theirs)}"
    )
    if theirs is None:
        return f"{mine}, and {holder_has}"
    return None if _holds(operator, value, theirs) else f"{mine}, and {holder_has}"


def _has(entity: Entity, key: str, value: Found) -> str:
    """``has val_auc = 0.85``, ``has tag ok = 'y'`` or ``has no param lr``."""
    noun = {Entity.METRIC: "metric ", Entity.PARAM: "param ", Entity.TAG: "tag "}
    if value is None:
        return f"has no {noun.get(entity, '')}{key}"
    shown = repr(value) if isinstance(value, str) else _number(value)
    if entity is Entity.METRIC:
        return f"has {key} = {shown}"
    return f"has {noun.get(entity, '')}{key} = {shown}"


def _number(value: float | int) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return repr(value)


def _holds(operator: Operator, value: float | int | str, expected: object) -> bool:
    """``value <operator> expected`` for a value the run has."""
    if operator is Operator.IN or operator is Operator.NOT_IN:
        inside = isinstance(expected, tuple) and value in expected
        return inside if operator is Operator.IN else not inside
    if operator is Operator.LIKE or operator is Operator.ILIKE:
        if not isinstance(value, str) or not isinstance(expected, str):
            return False
        pattern = _like_regex(expected, operator is Operator.ILIKE)
        return pattern.fullmatch(value) is not None
    if isinstance(value, str) != isinstance(expected, str):
        # A string is never equal to a number (the grammar keeps them apart).
        return operator is Operator.NE
    # Python compares NaN as IEEE 754 says, as the SQL search does: it is
    # unequal to everything and neither less nor greater than anything.
    return _RELATIONS[operator](value, expected)


_RELATIONS: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQ: operator_module.eq,
    Operator.NE: operator_module.ne,
    Operator.LT: operator_module.lt,
    Operator.LE: operator_module.le,
    Operator.GT: operator_module.gt,
    Operator.GE: operator_module.ge,
}


@functools.lru_cache(maxsize=256)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """A regular expression matching what SQL's LIKE ``pattern`` matches."""
    pieces: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            pieces.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "%":
            pieces.append(".*")
        elif char == "_":
            pieces.append(".")
        else:
            # A lone trailing backslash is taken literally, as the search does.
            pieces.append(re.escape(char))
        index += 1
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(pieces), flags)
