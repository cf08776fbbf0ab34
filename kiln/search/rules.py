"""Parse promotion rules: run filters that guard a registered model's alias.

A promotion rule is written in the run search language
(:mod:`kiln.search.grammar`) and is checked against the source run of the
version an alias is about to point at::

    metrics.val_auc >= 0.9 AND tags.validated = 'true'
        AND metrics.val_auc >= current.metrics.val_auc

On the right of a comparison, ``current.metrics.<key>``,
``current.params.<key>`` and ``current.tags.<key>`` stand for the value of
the source run of the version that holds the alias now. A metric compares
with ``current.metrics`` (=, !=, <, <=, >, >=); a param, tag or string
attribute with ``current.params`` or ``current.tags`` (= and != only).
``current.`` never stands on the left, inside an ``IN`` list or after
``LIKE``. ``datasets.`` comparisons are not part of rules.

:func:`parse_rule` returns a :class:`Rule`: the conditions joined by the
top-level ``AND`` (a rule holds when each does), each remembering its text
so that a failure can be reported condition by condition. Every mistake
raises :class:`~kiln.errors.InvalidFilter` naming the offending token and its
0-based position.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TypeAlias

from kiln.errors import InvalidFilter
from kiln.search.grammar import MAX_NESTING, _FilterParser
from kiln.search.specs import PREFIXES, RUNS, SearchSpec
from kiln.search.syntax import (
    LIST_OPERATORS,
    NULL_OPERATORS,
    Comparison,
    Entity,
    Operator,
    Value,
)
from kiln.search.tokens import Token, TokenKind

__all__ = [
    "MAX_RULE_LENGTH",
    "RULES",
    "AllOf",
    "AnyOf",
    "Condition",
    "Reference",
    "Rule",
    "RuleNode",
    "parse_rule",
]

# A rule guards one alias; a few dozen conditions is already a long one.
MAX_RULE_LENGTH = 10_000

#: What a rule may name of a run: what a run search may, but datasets.
RULES = SearchSpec(
    kind="source runs",
    entities=frozenset({Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE}),
    string_attributes=RUNS.string_attributes,
    numeric_attributes=RUNS.numeric_attributes,
    aliases=RUNS.aliases,
    list_attributes=RUNS.list_attributes,
    nullable=RUNS.nullable,
)

_CURRENT = "current."
_REFERENCE_ENTITIES = (Entity.METRIC, Entity.PARAM, Entity.TAG)
_REFERENCE_HINT = "current.metrics.<key>, current.params.<key> or current.tags.<key>"
_STRING_REFERENCE_OPERATORS = frozenset({Operator.EQ, Operator.NE})


@dataclass(frozen=True, slots=True)
class Reference:
    """``current.<entity>.<key>``: that value of the current holder's run."""

    entity: Entity
    key: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One comparison, as written in ``text``.

    When ``reference`` is set, the comparison's value is None and the
    candidate's value is compared with the referenced one instead.
    """

    comparison: Comparison
    text: str
    reference: Reference | None = None


@dataclass(frozen=True, slots=True)
class AllOf:
    """Conditions in parentheses joined by AND, as written in ``text``."""

    operands: tuple[RuleNode, ...]
    text: str


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Conditions joined by OR, as written in ``text``."""

    operands: tuple[RuleNode, ...]
    text: str


RuleNode: TypeAlias = Condition | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed promotion rule: it holds when each of ``conditions`` holds."""

    text: str
    conditions: tuple[RuleNode, ...]

    def keys(self, entity: Entity) -> frozenset[str]:
        """The keys of ``entity`` the rule reads, of either run."""
        found: set[str] = set()
        for condition in _leaves(self.conditions):
            if condition.comparison.entity is entity:
                found.add(condition.comparison.key)
            reference = condition.reference
            if reference is not None and reference.entity is entity:
                found.add(reference.key)
        return frozenset(found)

    @property
    def uses_current(self) -> bool:
        """Whether a condition compares with the current holder's run."""
        return any(c.reference is not None for c in _leaves(self.conditions))


def _leaves(nodes: tuple[RuleNode, ...]) -> list[Condition]:
    found: list[Condition] = []
    for node in nodes:
        if isinstance(node, Condition):
            found.append(node)
        else:
            found.extend(_leaves(node.operands))
    return found


def parse_rule(text: str) -> Rule:
    """Parse a promotion rule; the result is cached, as rules are few.

    >>> rule = parse_rule("metrics.auc >= current.metrics.auc AND tags.ok = 'y'")
    >>> [condition.text for condition in rule.conditions]
    ['metrics.auc >= current.metrics.auc', "tags.ok = 'y'"]

    Raises InvalidFilter when the rule is blank, too long or does not parse.
    """
    if not isinstance(text, str):
        raise InvalidFilter(
            f"Invalid promotion rule {text!r}; expected the rule as a string."
        )
    return _parse_rule(text)


@functools.lru_cache(maxsize=256)
def _parse_rule(text: str) -> Rule:
    if not text.strip():
        raise InvalidFilter(
            "Invalid promotion rule: it is empty; expected conditions such as "
            "\"metrics.val_auc >= 0.9 AND tags.validated = 'true'\"."
        )
    if len(text) > MAX_RULE_LENGTH:
        raise InvalidFilter(
            f"Invalid promotion rule: it is {len(text)} characters long; "
            f"expected at most {MAX_RULE_LENGTH}."
        )
    return _RuleParser(text).parse_rule()


def _is_reference(token: Token) -> bool:
    return token.kind is TokenKind.WORD and token.value.lower().startswith(_CURRENT)


class _RuleParser(_FilterParser):
    """The filter parser, building rule nodes that keep their text, and
    reading ``current.`` references where a value is expected."""

    what = "promotion rule"

    def __init__(self, text: str) -> None:
        super().__init__(text, RULES)
        self.reference: Reference | None = None

    def parse_rule(self) -> Rule:
        node = self.rule_disjunction(0)
        end = self.peek()
        if end.kind is not TokenKind.END:
            raise self.error(end, "AND, OR or the end of the rule")
        # A rule holds when each condition of its top-level AND does; a
        # rule wholly in parentheses means the same.
        if isinstance(node, AllOf):
            return Rule(self.text, node.operands)
        return Rule(self.text, (node,))

    def rule_disjunction(self, depth: int) -> RuleNode:
        start = self.index
        operands = [self.rule_conjunction(depth)]
        while self.is_keyword(self.peek(), "OR"):
            self.advance()
            operands.append(self.rule_conjunction(depth))
        if len(operands) == 1:
            return operands[0]
        return AnyOf(tuple(operands), self.span(start))

    def rule_conjunction(self, depth: int) -> RuleNode:
        start = self.index
        operands = [self.rule_primary(depth)]
        while self.is_keyword(self.peek(), "AND"):
            self.advance()
            operands.append(self.rule_primary(depth))
        if len(operands) == 1:
            return operands[0]
        return AllOf(tuple(operands), self.span(start))

    def rule_primary(self, depth: int) -> RuleNode:
        start = self.index
        token = self.peek()
        if token.kind is not TokenKind.LPAREN:
            return self.rule_condition()
        if depth >= MAX_NESTING:
            raise self.error(token, f"at most {MAX_NESTING} nested parentheses")
        self.advance()
        node = self.rule_disjunction(depth + 1)
        close = self.advance()
        if close.kind is not TokenKind.RPAREN:
            raise self.error(
                close,
                f"')' to close the '(' at position {token.position}, or AND or OR",
            )
        # Keep the parentheses in the group's text, so that a failure
        # message shows the group as written.
        if isinstance(node, AllOf):
            return AllOf(node.operands, self.span(start))
        if isinstance(node, AnyOf):
            return AnyOf(node.operands, self.span(start))
        return node

    def rule_condition(self) -> Condition:
        start = self.index
        first = self.peek()
        if _is_reference(first):
            raise self.error(
                first,
                "a metric, param, tag or attribute of the candidate's source run "
                "on the left of a comparison; current. may only stand on the right",
            )
        self.reference = None
        comparison = self.comparison()
        return Condition(comparison, self.span(start), self.reference)

    def value(
        self, entity: Entity, key: str, operator: Operator, op_token: Token
    ) -> Value:
        token = self.peek()
        if operator in NULL_OPERATORS or not _is_reference(token):
            return super().value(entity, key, operator, op_token)
        if operator in LIST_OPERATORS:
            raise self.error(
                token,
                f"'(' to start a list of quoted strings after {op_token.text!r}; "
                "current. cannot stand for a list",
            )
        self.advance()
        self.count_value(token, reference_allowed=True)
        reference = self.read_reference(token)
        self.check_reference(entity, key, operator, op_token, reference, token)
        self.reference = reference
        return None

    def count_value(self, token: Token, reference_allowed: bool = False) -> None:
        if _is_reference(token) and not reference_allowed:
            # Only reached for the items of an IN list.
            raise self.error(token, "a quoted string in the list, not a current. value")
        super().count_value(token)

    def read_reference(self, token: Token) -> Reference:
        rest = token.value[len(_CURRENT) :]
        prefix, dot, key = rest.partition(".")
        entity = PREFIXES.get(prefix.lower()) if dot else None
        if entity not in _REFERENCE_ENTITIES:
            raise self.error(token, _REFERENCE_HINT)
        if not key:
            quoted = self.peek()
            if not (
                quoted.kind is TokenKind.QUOTED_KEY
                or (quoted.kind is TokenKind.STRING and quoted.quote == '"')
            ):
                raise self.error(quoted, f"a key after {token.text!r}")
            key = self.advance().value
        if not key or entity is None:
            raise self.error(token, _REFERENCE_HINT)
        return Reference(entity, key)

    def check_reference(
        self,
        entity: Entity,
        key: str,
        operator: Operator,
        op_token: Token,
        reference: Reference,
        token: Token,
    ) -> None:
        """Refuse a reference whose type does not match the left side."""
        described = _describe(entity, key)
        if self.spec.is_numeric(entity, key):
            if reference.entity is not Entity.METRIC:
                raise self.error(
                    token,
                    f"a number or current.metrics.<key> after {op_token.text!r} "
                    f"for {described}",
                )
            return
        if reference.entity is Entity.METRIC:
            raise self.error(
                token,
                f"a quoted string, current.params.<key> or current.tags.<key> "
                f"after {op_token.text!r} for {described}",
            )
        if operator not in _STRING_REFERENCE_OPERATORS:
            raise self.error(
                token,
                f"a quoted pattern after {op_token.text!r} for {described}; "
                "current. values compare with = and != only",
            )

    def span(self, start: int) -> str:
        """The text from token ``start`` to the last token read."""
        first = self.tokens[start]
        last = self.tokens[self.index - 1]
        return self.text[first.position : last.position + len(last.text)]


def _describe(entity: Entity, key: str) -> str:
    if entity is Entity.ATTRIBUTE:
        return f"the attribute {key!r}"
    return f"{entity.value}.{key}"
