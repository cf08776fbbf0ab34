"""Promotion rules in the client: :class:`PromotionRuleClient`, mixed into
:class:`~kiln.tracking.client.KilnClient`."""

from __future__ import annotations

from kiln.entities import PromotionRule
from kiln.errors import NotImplementedFeature
from kiln.store.base import PromotionRuleStore, TrackingStore
from kiln.tracking.context import current_user

__all__ = ["PromotionRuleClient"]


class PromotionRuleClient:
    """Set, read, list and remove the rules guarding a model's aliases."""

    store: TrackingStore

    @property
    def _rules(self) -> PromotionRuleStore:
        store = self.store
        if not isinstance(store, PromotionRuleStore):
            raise NotImplementedFeature(
                f"The tracking store {type(store).__name__!r} has no promotion rules."
            )
        return store

    def set_promotion_rule(self, name: str, alias: str, rule: str) -> PromotionRule:
        """Guard ``alias`` of model ``name`` with ``rule``, replacing any rule
        it had, and return the stored rule.

        From then on the alias only moves to a version whose source run meets
        the rule, written as a run search filter; ``current.metrics.<key>``,
        ``current.params.<key>`` and ``current.tags.<key>`` on the right of a
        comparison name the values of the version it points at now::

            client.set_promotion_rule(
                "churn", "champion",
                "metrics.val_auc >= 0.9 AND metrics.val_auc >= current.metrics.val_auc",
            )

        InvalidParameterValue when the rule does not parse, naming the token.
        """
        return self._rules.set_promotion_rule(name, alias, rule, user_id=current_user())

    def get_promotion_rule(self, name: str, alias: str) -> PromotionRule:
        """The rule guarding ``alias``; ResourceDoesNotExist when it has none."""
        return self._rules.get_promotion_rule(name, alias)

    def delete_promotion_rule(self, name: str, alias: str) -> None:
        """Remove the rule guarding ``alias``; a rule it lacks is no error."""
        self._rules.delete_promotion_rule(name, alias)

    def list_promotion_rules(self, name: str) -> list[PromotionRule]:
        """Every rule of model ``name``, by alias."""
        return self._rules.list_promotion_rules(name)
