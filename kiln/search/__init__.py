"""Kiln's search language: filters and ``order_by`` for runs, experiments,
registered models, model versions and logged models.

:func:`parse_filter` and :func:`parse_order_by` turn text into the syntax
tree of :mod:`kiln.search.syntax`; :mod:`kiln.search.sql` compiles it to
SQL; :mod:`kiln.search.paging` makes and reads page tokens.
"""

from kiln.search.grammar import parse_filter, parse_order_by
from kiln.search.paging import decode_page_token, encode_page_token
from kiln.search.specs import (
    EXPERIMENTS,
    LOGGED_MODELS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
    SearchSpec,
)
from kiln.search.syntax import (
    And,
    Comparison,
    Entity,
    Node,
    Operator,
    Or,
    OrderClause,
)

__all__ = [
    "EXPERIMENTS",
    "LOGGED_MODELS",
    "MODEL_VERSIONS",
    "REGISTERED_MODELS",
    "RUNS",
    "And",
    "Comparison",
    "Entity",
    "Node",
    "Operator",
    "Or",
    "OrderClause",
    "SearchSpec",
    "decode_page_token",
    "encode_page_token",
    "parse_filter",
    "parse_order_by",
]
