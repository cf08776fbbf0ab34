"""Promotion rules on the wire, for Kiln's own endpoints.

A rule is an object with the entity's field names; timestamps are
milliseconds as JSON numbers, and an unknown ``user_id`` is left out.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import PromotionRule
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message
from kiln.wire.message import Message

__all__ = ["promotion_rule_from_dict", "promotion_rule_to_dict"]


def promotion_rule_to_dict(rule: PromotionRule) -> JSONObject:
    return compact(
        {
            "name": rule.name,
            "alias": rule.alias,
            "rule": rule.rule,
            "creation_timestamp": rule.creation_timestamp,
            "last_updated_timestamp": rule.last_updated_timestamp,
            "user_id": rule.user_id,
        }
    )


def promotion_rule_from_dict(source: Mapping[str, object] | Message) -> PromotionRule:
    msg = as_message(source)
    return PromotionRule(
        name=msg.string("name", required=True),
        alias=msg.string("alias", required=True),
        rule=msg.string("rule", required=True),
        creation_timestamp=msg.int64("creation_timestamp") or 0,
        last_updated_timestamp=msg.int64("last_updated_timestamp") or 0,
        user_id=msg.string("user_id"),
    )
