"""Parse search filters and ``order_by`` clauses into syntax trees.

The language is MLflow's: comparisons such as ``metrics.acc > 0.9``,
``params.lr = '0.01'``, ``tags.`mlflow.user` ILIKE 'ann%'``,
``run_id IN ('a', 'b')`` or ``tags.team IS NULL``, joined by ``AND``.
Kiln also accepts ``OR`` and parentheses, with ``AND`` binding tighter
than ``OR``, and unquoted keys containing ``/``, ``-`` or ``:``
(``metrics.train/loss``); MLflow refuses all three. Keywords are
case-insensitive. Keys may be back-ticked or double-quoted; string values
take single or double quotes (a quote is doubled to write it inside);
numbers are unquoted.

Which identifiers and operators are allowed depends on the search, as
described by a :class:`~kiln.search.specs.SearchSpec`. Every mistake raises
:class:`~kiln.errors.InvalidFilter` quoting the offending token and its
0-based character position.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.errors import InvalidFilter
from kiln.search.specs import PREFIXES, SearchSpec
from kiln.search.syntax import (
    And,
    Comparison,
    Entity,
    Node,
    Operator,
    Or,
    OrderClause,
    Value,
)
from kiln.search.tokens import Token, TokenKind, show, tokenize

# Bounds that keep a hostile filter from costing more than a normal one.
# The length leaves room for a full-length tag value or a few hundred run ids.
MAX_FILTER_LENGTH = 50_000
MAX_COMPARISONS = 100
MAX_VALUES = 1000
MAX_NESTING = 20
MAX_ORDER_CLAUSES = 20
MAX_ORDER_CLAUSE_LENGTH = 1000

_INT64_MAX = 2**63 - 1
_OPERATOR_LIST = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL"


def parse_filter(filter_string: str | None, spec: SearchSpec) -> Node | None:
    """Parse a filter for the search ``spec`` describes; None when blank.

    >>> from kiln.search.specs import RUNS
    >>> node = parse_filter("metrics.acc > 0.9", RUNS)
    >>> node.entity.value, node.key, node.operator.value, node.value
    ('metrics', 'acc', '>', 0.9)

    Raises InvalidFilter when the filter is too long or does not parse.
    """
    if filter_string is None or not filter_string.strip():
        return None
    if len(filter_string) > MAX_FILTER_LENGTH:
        raise InvalidFilter(
            f"Invalid filter: it is {len(filter_string)} characters long; "
            f"expected at most {MAX_FILTER_LENGTH}."
        )
    return _FilterParser(filter_string, spec).parse()


def parse_order_by(
    order_by: Sequence[str] | None, spec: SearchSpec
) -> tuple[OrderClause, ...]:
    """Parse ``order_by`` entries of the form ``"<identifier> [ASC|DESC]"``.

    Raises InvalidFilter naming the bad entry when one does not parse or
    names something the search cannot sort by.
    """
    if not order_by:
        return ()
    if len(order_by) > MAX_ORDER_CLAUSES:
        raise InvalidFilter(
            f"Invalid order_by: {len(order_by)} clauses given; expected at most "
            f"{MAX_ORDER_CLAUSES}."
        )
    return tuple(_parse_order_clause(clause, spec) for clause in order_by)


class _Parser:
    """A cursor over tokens plus the identifier rules shared by both parsers."""

    what = "filter"

    def __init__(self, text: str, spec: SearchSpec) -> None:
        self.text = text
        self.tokens = tokenize(text, self.what)
        self.index = 0
        self.spec = spec

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not TokenKind.END:
            self.index += 1
        return token

    def is_keyword(self, token: Token, *words: str) -> bool:
        return token.kind is TokenKind.WORD and token.value.upper() in words

    def error(self, token: Token, expected: str) -> InvalidFilter:
        if token.kind is TokenKind.END:
            found = f"the end of the {self.what}"
        else:
            found = show(token.text)
        return InvalidFilter(
            f"Invalid {self.what}{self.context()}: found {found} at position "
            f"{token.position}; expected {expected}."
        )

    def context(self) -> str:
        """What to quote of the input after "Invalid filter" in messages."""
        return ""

    def identifier(self, for_order: bool = False) -> tuple[Entity, str, Token]:
        """Read ``<prefix>.<key>`` or a bare attribute; return entity and key."""
        first = self.advance()
        if first.kind is TokenKind.QUOTED_KEY or _is_double_quoted(first):
            return self._attribute(first.value, first, for_order)
        if first.kind is not TokenKind.WORD:
            raise self.error(first, self._identifier_hint())
        prefix, dot, key = first.value.partition(".")
        if not dot:
            return self._attribute(first.value, first, for_order)

        entity = PREFIXES.get(prefix.lower())
        if entity is None:
            raise self.error(
                first, f"a known prefix before the dot, such as {self.prefix_hint()}"
            )
        if not key:
            quoted = self.peek()
            if not (quoted.kind is TokenKind.QUOTED_KEY or _is_double_quoted(quoted)):
                raise self.error(quoted, f"a key after {first.text!r}")
            key = self.advance().value
        if not key:
            raise self.error(first, "a non-empty key")
        if entity is Entity.ATTRIBUTE:
            return self._attribute(key, first, for_order)
        self._check_entity(entity, key, first, for_order)
        return entity, key, first

    def _check_entity(
        self, entity: Entity, key: str, token: Token, for_order: bool
    ) -> None:
        allowed = self.spec.order_entities if for_order else self.spec.entities
        if entity not in allowed:
            raise self.error(
                token,
                f"an attribute or {self.prefix_hint(for_order)} when "
                f"{'sorting' if for_order else 'searching'} {self.spec.kind}, "
                f"not {entity.value}",
            )
        if entity is Entity.DATASET and key not in self.spec.dataset_keys:
            keys = ", ".join(sorted(self.spec.dataset_keys))
            raise self.error(token, f"a dataset key among {keys}")

    def _attribute(
        self, name: str, token: Token, for_order: bool
    ) -> tuple[Entity, str, Token]:
        if for_order:
            canonical = self.spec.resolve_order_attribute(name)
            names = self.spec.order_attributes
        else:
            canonical = self.spec.resolve_attribute(name)
            names = self.spec.string_attributes | self.spec.numeric_attributes
        if canonical is None:
            raise self.error(
                token,
                f"an attribute of {self.spec.kind} ({', '.join(sorted(names))}) "
                f"or {self.prefix_hint(for_order)}",
            )
        return Entity.ATTRIBUTE, canonical, token

    def _identifier_hint(self) -> str:
        return f"an attribute or {self.prefix_hint()}"

    def prefix_hint(self, for_order: bool = False) -> str:
        """The prefixed keys this search accepts, for messages."""
        allowed = self.spec.order_entities if for_order else self.spec.entities
        names = [f"{e.value}.<key>" for e in Entity if e in allowed]
        names = [n for n in names if not n.startswith("attributes")]
        if not names:
            return "no prefixed key"
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " or " + names[-1]


def _is_double_quoted(token: Token) -> bool:
    return token.kind is TokenKind.STRING and token.quote == '"'


class _FilterParser(_Parser):
    def __init__(self, text: str, spec: SearchSpec) -> None:
        super().__init__(text, spec)
        self.comparisons = 0
        self.values = 0

    def parse(self) -> Node:
        node = self.disjunction(0)
        end = self.peek()
        if end.kind is not TokenKind.END:
            raise self.error(end, "AND, OR or the end of the filter")
        return node

    def disjunction(self, depth: int) -> Node:
        operands = [self.conjunction(depth)]
        while self.is_keyword(self.peek(), "OR"):
            self.advance()
            operands.append(self.conjunction(depth))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self, depth: int) -> Node:
        operands = [self.primary(depth)]
        while self.is_keyword(self.peek(), "AND"):
            self.advance()
            operands.append(self.primary(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def primary(self, depth: int) -> Node:
        token = self.peek()
        if token.kind is not TokenKind.LPAREN:
            return self.comparison()
        if depth >= MAX_NESTING:
            raise self.error(token, f"at most {MAX_NESTING} nested parentheses")
        self.advance()
        node = self.disjunction(depth + 1)
        close = self.advance()
        if close.kind is not TokenKind.RPAREN:
            raise self.error(
                close,
                f"')' to close the '(' at position {token.position}, or AND or OR",
            )
        return node

    def comparison(self) -> Comparison:
        entity, key, start = self.identifier()
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(start, f"at most {MAX_COMPARISONS} comparisons")

        op_token = self.peek()
        operator = self.operator()
        if operator not in self.spec.operators(entity, key):
            allowed = ", ".join(
                op.value for op in Operator if op in self.spec.operators(entity, key)
            )
            raise self.error(
                op_token,
                f"one of {allowed} for {_describe(entity, key)} in a "
                f"{self.spec.kind} filter",
            )
        value = self.value(entity, key, operator, op_token)
        return Comparison(entity, key, operator, value)

    def operator(self) -> Operator:
        token = self.advance()
        if token.kind is TokenKind.OPERATOR and token.value in _SYMBOLS:
            return _SYMBOLS[token.value]
        if self.is_keyword(token, "LIKE", "ILIKE", "IN"):
            return Operator(token.value.upper())
        if self.is_keyword(token, "NOT"):
            follow = self.advance()
            if not self.is_keyword(follow, "IN"):
                raise self.error(follow, "IN after NOT")
            return Operator.NOT_IN
        if self.is_keyword(token, "IS"):
            negated = self.is_keyword(self.peek(), "NOT")
            if negated:
                self.advance()
            null = self.advance()
            if not self.is_keyword(null, "NULL"):
                raise self.error(null, "NULL after IS" + (" NOT" if negated else ""))
            return Operator.IS_NOT_NULL if negated else Operator.IS_NULL
        raise self.error(token, f"an operator ({_OPERATOR_LIST})")

    def value(
        self, entity: Entity, key: str, operator: Operator, op_token: Token
    ) -> Value:
        if operator in (Operator.IS_NULL, Operator.IS_NOT_NULL):
            return None
        if operator in (Operator.IN, Operator.NOT_IN):
            return self.string_list()
        token = self.advance()
        self.count_value(token)
        if self.spec.is_numeric(entity, key):
            if token.kind is not TokenKind.NUMBER:
                raise self.error(
                    token,
                    f"an unquoted number after {op_token.text!r} for "
                    f"{_describe(entity, key)}",
                )
            return _number(token.value, integral=entity is Entity.ATTRIBUTE)
        if token.kind is not TokenKind.STRING:
            raise self.error(
                token,
                f"a quoted string after {op_token.text!r} for "
                f"{_describe(entity, key)}, such as 'value'",
            )
        return token.value

    def string_list(self) -> tuple[str, ...]:
        open_ = self.advance()
        if open_.kind is not TokenKind.LPAREN:
            raise self.error(open_, "'(' to start a list of quoted strings")
        values: list[str] = []
        while True:
            item = self.advance()
            self.count_value(item)
            if item.kind is not TokenKind.STRING:
                raise self.error(item, "a quoted string in the list")
            values.append(item.value)
            after = self.advance()
            if after.kind is TokenKind.RPAREN:
                return tuple(values)
            if after.kind is not TokenKind.COMMA:
                raise self.error(after, "',' or ')' in the list")

    def count_value(self, token: Token) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.error(token, f"at most {MAX_VALUES} values in one filter")


_SYMBOLS = {op.value: op for op in Operator if not op.value[0].isalpha()}


def _describe(entity: Entity, key: str) -> str:
    if entity is Entity.ATTRIBUTE:
        return f"the attribute {key!r}"
    return f"{entity.value}.{key}" if key.isidentifier() else f"{entity.value}.`{key}`"


def _number(text: str, integral: bool) -> float | int:
    # Numeric attributes are integer columns (milliseconds); keep an integer
    # literal exact unless it would overflow a 64-bit column.
    if integral and not any(c in text for c in ".eE"):
        number = int(text)
        if abs(number) <= _INT64_MAX:
            return number
    return float(text)


class _OrderParser(_Parser):
    what = "order_by clause"

    def context(self) -> str:
        # Several clauses may be given; name the one that failed.
        return " " + show(self.text)

    def parse(self) -> OrderClause:
        entity, key, _ = self.identifier(for_order=True)
        ascending = True
        token = self.advance()
        if self.is_keyword(token, "ASC", "DESC"):
            ascending = token.value.upper() == "ASC"
            token = self.advance()
        if token.kind is not TokenKind.END:
            raise self.error(token, "ASC, DESC or the end of the clause")
        return OrderClause(entity, key, ascending)


def _parse_order_clause(clause: str, spec: SearchSpec) -> OrderClause:
    if not isinstance(clause, str) or not clause.strip():
        raise InvalidFilter(
            f"Invalid order_by clause {clause!r}; expected '<identifier> [ASC|DESC]'."
        )
    if len(clause) > MAX_ORDER_CLAUSE_LENGTH:
        raise InvalidFilter(
            f"Invalid order_by clause {show(clause)}: it is {len(clause)} characters "
            f"long; expected at most {MAX_ORDER_CLAUSE_LENGTH}."
        )
    return _OrderParser(clause, spec).parse()
