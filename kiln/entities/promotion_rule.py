"""Promotion rules: the condition a version's source run must meet for an
alias of its registered model to point at it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PromotionRule:
    """The rule guarding ``alias`` of the registered model ``name``.

    ``rule`` is a run filter such as ``metrics.val_auc >= 0.9``; on its
    right, ``current.metrics.<key>`` and the like name the values of the
    version that holds the alias now. Timestamps are milliseconds since the
    epoch; ``user_id`` is who last set the rule, when known.
    """

    name: str
    alias: str
    rule: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str | None = None
