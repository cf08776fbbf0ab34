"""The syntax tree a search filter parses into.

A filter is a tree of :class:`Comparison` leaves joined by :class:`And` and
:class:`Or`; an ``order_by`` list becomes a tuple of :class:`OrderClause`.
The nodes are plain frozen dataclasses, so the SQL compiler (or a test) can
match on them without knowing how the text looked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias


class Entity(enum.Enum):
    """What a key in a filter refers to."""

    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"
    DATASET = "datasets"


class Operator(enum.Enum):
    """A comparison operator, spelled as in the filter (keywords upper case)."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


NUMERIC_OPERATORS = frozenset(
    {Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE}
)
STRING_OPERATORS = frozenset({Operator.EQ, Operator.NE, Operator.LIKE, Operator.ILIKE})
LIST_OPERATORS = frozenset({Operator.IN, Operator.NOT_IN})
NULL_OPERATORS = frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})

#: A comparison's right-hand side: a number for metrics and numeric
#: attributes, a string for the rest, a tuple of strings for ``IN`` and
#: ``None`` for ``IS [NOT] NULL``.
Value: TypeAlias = float | int | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``<entity>.<key> <operator> <value>`` clause.

    ``key`` is unquoted; for attributes it is the canonical column name, with
    aliases such as ``created`` already resolved.
    """

    entity: Entity
    key: str
    operator: Operator
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    """All operands hold (at least two of them)."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one operand holds (at least two of them)."""

    operands: tuple[Node, ...]


Node: TypeAlias = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderClause:
    """One ``order_by`` entry: sort by ``entity.key``, ascending or not."""

    entity: Entity
    key: str
    ascending: bool = True
