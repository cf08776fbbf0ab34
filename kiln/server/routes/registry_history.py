"""Kiln's own registry endpoints for the history of alias moves and stage
changes, under ``/kiln/registered-models`` and ``/kiln/model-versions``.

MLflow's protocol has no history, no roll back and no reason for a change:

* ``GET …/history`` lists a model's history, newest first;
* ``POST …/alias/rollback`` points an alias back at its previous version;
* ``POST …/alias`` and ``POST /kiln/model-versions/transition-stage`` do
  what MLflow's endpoints of the same name do, and take a ``reason`` too.

Every change is made as the request's user (see :mod:`kiln.server.identity`).
"""

from __future__ import annotations

from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.server.routes.registry import _registry
from kiln.store.base import REGISTRY_HISTORY_DEFAULT
from kiln.wire import JSONObject, Message, compact
from kiln.wire.history import history_entry_to_dict
from kiln.wire.registry import model_version_to_dict

__all__ = ["ENDPOINTS"]


def _name(msg: Message) -> str:
    return msg.string("name", required=True)


def _alias(msg: Message) -> str:
    return msg.string("alias", required=True)


def get_registry_history(context: ServerContext, msg: Message) -> JSONObject:
    # A max_results of 0 means "the default", as in MLflow's searches.
    page = _registry(context).get_registry_history(
        _name(msg),
        alias=msg.string("alias") or None,
        kind=msg.string("kind") or None,
        max_results=msg.int64("max_results") or REGISTRY_HISTORY_DEFAULT,
        page_token=msg.string("page_token") or None,
    )
    return compact(
        {
            "history": [history_entry_to_dict(entry) for entry in page],
            "next_page_token": page.token,
        }
    )


def rollback_alias(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).rollback_alias(
        _name(msg),
        _alias(msg),
        reason=msg.string("reason") or None,
        user_id=context.user_id,
    )
    return {"model_version": model_version_to_dict(version)}


def set_registered_model_alias(context: ServerContext, msg: Message) -> None:
    _registry(context).set_registered_model_alias(
        _name(msg),
        _alias(msg),
        msg.string("version", required=True),
        reason=msg.string("reason") or None,
        user_id=context.user_id,
    )


def transition_model_version_stage(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).transition_model_version_stage(
        _name(msg),
        msg.string("version", required=True),
        msg.string("stage", required=True),
        bool(msg.boolean("archive_existing_versions")),
        reason=msg.string("reason") or None,
        user_id=context.user_id,
    )
    return {"model_version": model_version_to_dict(version)}


_MODELS = "/kiln/registered-models"
_VERSIONS = "/kiln/model-versions"

ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{_MODELS}/history", ("GET",), get_registry_history),
    Endpoint(f"{_MODELS}/alias/rollback", ("POST",), rollback_alias),
    Endpoint(f"{_MODELS}/alias", ("POST",), set_registered_model_alias),
    Endpoint(
        f"{_VERSIONS}/transition-stage", ("POST",), transition_model_version_stage
    ),
]
