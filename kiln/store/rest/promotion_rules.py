"""Promotion rules in the REST store: Kiln's own endpoints under
``/api/2.0/kiln/registered-models/promotion-rules``, which only a Kiln server
answers. The server records who set a rule from the request, so no
``user_id`` is sent.

Every call leaves the same state when repeated (deleting a rule that is gone
is no error), so each may be retried after a passing failure.
"""

from __future__ import annotations

from kiln.entities import PromotionRule
from kiln.errors import KilnError, NotImplementedFeature
from kiln.store.rest.http import RestClient
from kiln.wire import JSONObject, Message
from kiln.wire.promotion_rules import promotion_rule_from_dict

__all__ = ["RestPromotionRules"]

_RULES = "/api/2.0/kiln/registered-models/promotion-rules"


def _rule(answer: JSONObject) -> PromotionRule:
    return promotion_rule_from_dict(
        Message(answer).message("promotion_rule", required=True)
    )


class RestPromotionRules:
    """The :class:`~kiln.store.base.PromotionRuleStore` methods of the REST
    store."""

    http: RestClient

    def _rules_call(self, method: str, path: str, fields: JSONObject) -> JSONObject:
        try:
            return self.http.call(method, f"{_RULES}/{path}", fields, idempotent=True)
        except KilnError as error:
            if error.error_code != "ENDPOINT_NOT_FOUND":
                raise
            raise NotImplementedFeature(
                f"The tracking server at {self.http.base_url!r} has no promotion "
                "rules; they need a Kiln server."
            ) from error

    def set_promotion_rule(
        self, name: str, alias: str, rule: str, *, user_id: str | None = None
    ) -> PromotionRule:
        fields = {"name": name, "alias": alias, "rule": rule}
        return _rule(self._rules_call("POST", "set", fields))

    def get_promotion_rule(self, name: str, alias: str) -> PromotionRule:
        return _rule(self._rules_call("GET", "get", {"name": name, "alias": alias}))

    def delete_promotion_rule(self, name: str, alias: str) -> None:
        self._rules_call("DELETE", "delete", {"name": name, "alias": alias})

    def list_promotion_rules(self, name: str) -> list[PromotionRule]:
        answer = self._rules_call("GET", "list", {"name": name})
        return [
            promotion_rule_from_dict(rule)
            for rule in Message(answer).messages("promotion_rules")
        ]
