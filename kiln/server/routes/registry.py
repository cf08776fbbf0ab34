"""Model registry endpoints: registered models, their versions, stages,
tags and aliases, under ``/mlflow/registered-models`` and
``/mlflow/model-versions``.

Searches return every model's and version's aliases, which some MLflow
servers have left out. A delete reads its fields from the JSON body, as
MLflow's client sends them. Creations, alias moves and stage changes are
made as the request's user (see :mod:`kiln.server.identity`), which the
registry's history records.
"""

from __future__ import annotations

import functools
from typing import cast

from kiln.entities import ModelVersionTag, RegisteredModelTag
from kiln.errors import NotImplementedFeature
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.store.base import (
    SEARCH_MODEL_VERSIONS_DEFAULT,
    SEARCH_REGISTERED_MODELS_DEFAULT,
    RegistryStore,
)
from kiln.wire import JSONObject, Message, compact
from kiln.wire.registry import (
    model_version_tags_from_list,
    model_version_to_dict,
    registered_model_tags_from_list,
    registered_model_to_dict,
)

__all__ = ["ENDPOINTS"]


def _registry(context: ServerContext) -> RegistryStore:
    store = context.store
    if not _offers_registry(type(store)):
        raise NotImplementedFeature(
            f"The server's store {type(store).__name__!r} has no model registry."
        )
    return cast(RegistryStore, store)


@functools.cache
def _offers_registry(store_type: type) -> bool:
    # A protocol check walks every method (about 16 µs); once per type will do.
    return issubclass(store_type, RegistryStore)


def _name(msg: Message) -> str:
    return msg.string("name", required=True)


def _version(msg: Message) -> str:
    return msg.string("version", required=True)


# -- registered models --------------------------------------------------------
def create_registered_model(context: ServerContext, msg: Message) -> JSONObject:
    model = _registry(context).create_registered_model(
        _name(msg),
        registered_model_tags_from_list(msg),
        msg.string("description") or None,
        user_id=context.user_id,
    )
    return {"registered_model": registered_model_to_dict(model)}


def get_registered_model(context: ServerContext, msg: Message) -> JSONObject:
    model = _registry(context).get_registered_model(_name(msg))
    return {"registered_model": registered_model_to_dict(model)}


def rename_registered_model(context: ServerContext, msg: Message) -> JSONObject:
    new_name = msg.string("new_name", required=True)
    model = _registry(context).rename_registered_model(_name(msg), new_name)
    return {"registered_model": registered_model_to_dict(model)}


def update_registered_model(context: ServerContext, msg: Message) -> JSONObject:
    model = _registry(context).update_registered_model(
        _name(msg), msg.string("description")
    )
    return {"registered_model": registered_model_to_dict(model)}


def delete_registered_model(context: ServerContext, msg: Message) -> None:
    _registry(context).delete_registered_model(_name(msg))


def search_registered_models(context: ServerContext, msg: Message) -> JSONObject:
    # A max_results of 0 (the proto default) means "the default".
    page = _registry(context).search_registered_models(
        filter_string=msg.string("filter") or None,
        max_results=msg.int64("max_results") or SEARCH_REGISTERED_MODELS_DEFAULT,
        order_by=msg.strings("order_by"),
        page_token=msg.string("page_token") or None,
    )
    return compact(
        {
            "registered_models": [registered_model_to_dict(m) for m in page],
            "next_page_token": page.token,
        }
    )


def get_latest_versions(context: ServerContext, msg: Message) -> JSONObject:
    versions = _registry(context).get_latest_versions(_name(msg), msg.strings("stages"))
    return compact({"model_versions": [model_version_to_dict(v) for v in versions]})


def set_registered_model_tag(context: ServerContext, msg: Message) -> None:
    tag = RegisteredModelTag(
        msg.string("key", required=True), msg.string("value") or ""
    )
    _registry(context).set_registered_model_tag(_name(msg), tag)


def delete_registered_model_tag(context: ServerContext, msg: Message) -> None:
    key = msg.string("key", required=True)
    _registry(context).delete_registered_model_tag(_name(msg), key)


# -- aliases ------------------------------------------------------------------
def set_registered_model_alias(context: ServerContext, msg: Message) -> None:
    _registry(context).set_registered_model_alias(
        _name(msg),
        msg.string("alias", required=True),
        _version(msg),
        user_id=context.user_id,
    )


def delete_registered_model_alias(context: ServerContext, msg: Message) -> None:
    _registry(context).delete_registered_model_alias(
        _name(msg), msg.string("alias", required=True), user_id=context.user_id
    )


def get_model_version_by_alias(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).get_model_version_by_alias(
        _name(msg), msg.string("alias", required=True)
    )
    return {"model_version": model_version_to_dict(version)}


# -- model versions -----------------------------------------------------------
def create_model_version(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).create_model_version(
        _name(msg),
        msg.string("source", required=True),
        run_id=msg.string("run_id") or None,
        tags=model_version_tags_from_list(msg),
        run_link=msg.string("run_link") or None,
        description=msg.string("description") or None,
        model_id=msg.string("model_id") or None,
        user_id=context.user_id,
    )
    return {"model_version": model_version_to_dict(version)}


def get_model_version(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).get_model_version(_name(msg), _version(msg))
    return {"model_version": model_version_to_dict(version)}


def update_model_version(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).update_model_version(
        _name(msg), _version(msg), msg.string("description")
    )
    return {"model_version": model_version_to_dict(version)}


def delete_model_version(context: ServerContext, msg: Message) -> None:
    _registry(context).delete_model_version(
        _name(msg), _version(msg), user_id=context.user_id
    )


def search_model_versions(context: ServerContext, msg: Message) -> JSONObject:
    page = _registry(context).search_model_versions(
        filter_string=msg.string("filter") or None,
        max_results=msg.int64("max_results") or SEARCH_MODEL_VERSIONS_DEFAULT,
        order_by=msg.strings("order_by"),
        page_token=msg.string("page_token") or None,
    )
    return compact(
        {
            "model_versions": [model_version_to_dict(v) for v in page],
            "next_page_token": page.token,
        }
    )


def get_model_version_download_uri(context: ServerContext, msg: Message) -> JSONObject:
    uri = _registry(context).get_model_version_download_uri(_name(msg), _version(msg))
    return {"artifact_uri": uri}


def transition_model_version_stage(context: ServerContext, msg: Message) -> JSONObject:
    version = _registry(context).transition_model_version_stage(
        _name(msg),
        _version(msg),
        msg.string("stage", required=True),
        bool(msg.boolean("archive_existing_versions")),
        user_id=context.user_id,
    )
    return {"model_version": model_version_to_dict(version)}


def set_model_version_tag(context: ServerContext, msg: Message) -> None:
    tag = ModelVersionTag(msg.string("key", required=True), msg.string("value") or "")
    _registry(context).set_model_version_tag(_name(msg), _version(msg), tag)


def delete_model_version_tag(context: ServerContext, msg: Message) -> None:
    key = msg.string("key", required=True)
    _registry(context).delete_model_version_tag(_name(msg), _version(msg), key)


_MODELS = "/mlflow/registered-models"
_VERSIONS = "/mlflow/model-versions"

ENDPOINTS: list[Endpoint] = [
    Endpoint(f"{_MODELS}/create", ("POST",), create_registered_model),
    Endpoint(f"{_MODELS}/get", ("GET",), get_registered_model, quick=True),
    Endpoint(f"{_MODELS}/rename", ("POST",), rename_registered_model),
    Endpoint(f"{_MODELS}/update", ("PATCH",), update_registered_model),
    Endpoint(f"{_MODELS}/delete", ("DELETE",), delete_registered_model),
    Endpoint(f"{_MODELS}/search", ("GET",), search_registered_models),
    Endpoint(
        f"{_MODELS}/get-latest-versions",
        ("POST", "GET"),
        get_latest_versions,
        quick=True,
    ),
    Endpoint(f"{_MODELS}/set-tag", ("POST",), set_registered_model_tag),
    Endpoint(f"{_MODELS}/delete-tag", ("DELETE",), delete_registered_model_tag),
    Endpoint(f"{_MODELS}/alias", ("POST",), set_registered_model_alias),
    Endpoint(f"{_MODELS}/alias", ("DELETE",), delete_registered_model_alias),
    Endpoint(f"{_MODELS}/alias", ("GET",), get_model_version_by_alias, quick=True),
    Endpoint(f"{_VERSIONS}/create", ("POST",), create_model_version),
    Endpoint(f"{_VERSIONS}/get", ("GET",), get_model_version, quick=True),
    Endpoint(f"{_VERSIONS}/update", ("PATCH",), update_model_version),
    Endpoint(f"{_VERSIONS}/delete", ("DELETE",), delete_model_version),
    Endpoint(f"{_VERSIONS}/search", ("GET",), search_model_versions),
    Endpoint(f"{_VERSIONS}/get-download-uri", ("GET",), get_model_version_download_uri),
    Endpoint(
        f"{_VERSIONS}/transition-stage", ("POST",), transition_model_version_stage
    ),
    Endpoint(f"{_VERSIONS}/set-tag", ("POST",), set_model_version_tag),
    Endpoint(f"{_VERSIONS}/delete-tag", ("DELETE",), delete_model_version_tag),
]
