"""Kiln's own endpoints for promotion rules, under
``/kiln/registered-models/promotion-rules``.

MLflow's protocol has no promotion rules:

* ``POST …/set`` guards an alias with a rule (``name``, ``alias``, ``rule``),
  replacing any rule it had, and answers the stored rule;
* ``GET …/get`` answers one alias's rule (``name``, ``alias``);
* ``DELETE`` or ``POST …/delete`` removes it;
* ``GET …/list`` answers every rule of a model (``name``), by alias.

The rule is enforced by the store on every alias move, so MLflow's own
``/mlflow/registered-models/alias`` is held to it too. A rule is set as the
request's user (see :mod:`kiln.server.identity`).
"""

from __future__ import annotations

import functools
from typing import cast

from kiln.errors import NotImplementedFeature
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.store.base import PromotionRuleStore
from kiln.wire import JSONObject, Message
from kiln.wire.promotion_rules import promotion_rule_to_dict

__all__ = ["ENDPOINTS"]


def _rules(context: ServerContext) -> PromotionRuleStore:
    store = context.store
    if not _offers_rules(type(store)):
        raise NotImplementedFeature(
            f"The server's store {type(store).__name__!r} has no promotion rules."
        )
    return cast(PromotionRuleStore, store)


@functools.cache
def _offers_rules(store_type: type) -> bool:
    # A protocol check walks every method; once per type will do.
    return issubclass(store_type, PromotionRuleStore)


def _name(msg: Message) -> str:
    return msg.string("name", required=True)


def _alias(msg: Message) -> str:
    return msg.string("alias", required=True)


def set_promotion_rule(context: ServerContext, msg: Message) -> JSONObject:
    rule = _rules(context).set_promotion_rule(
        _name(msg),
        _alias(msg),
        msg.string("rule", required=True),
        user_id=context.user_id,
    )
    return {"promotion_rule": promotion_rule_to_dict(rule)}


def get_promotion_rule(context: ServerContext, msg: Message) -> JSONObject:
    rule = _rules(context).get_promotion_rule(_name(msg), _alias(msg))
    return {"promotion_rule": promotion_rule_to_dict(rule)}


def delete_promotion_rule(context: ServerContext, msg: Message) -> None:
    _rules(context).delete_promotion_rule(_name(msg), _alias(msg))


def list_promotion_rules(context: ServerContext, msg: Message) -> JSONObject:
    rules = _rules(context).list_promotion_rules(_name(msg))
    return {"promotion_rules": [promotion_rule_to_dict(rule) for rule in rules]}


_RULES = "/kiln/registered-models/promotion-rules"

ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{_RULES}/set", ("POST",), set_promotion_rule),
    Endpoint(f"{_RULES}/get", ("GET",), get_promotion_rule, quick=True),
    Endpoint(f"{_RULES}/delete", ("DELETE", "POST"), delete_promotion_rule),
    Endpoint(f"{_RULES}/list", ("GET",), list_promotion_rules, quick=True),
]
