"""The model registry on the wire: registered models and model versions.

A version number travels as a string (``"3"``); a registered model's
``aliases`` are ``{alias, version}`` objects, a version's are plain strings.
As everywhere, unset fields and empty lists are left out of responses.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message, tags_from_list, tags_to_list
from kiln.wire.message import Message

__all__ = [
    "model_version_from_dict",
    "model_version_tags_from_list",
    "model_version_to_dict",
    "registered_model_from_dict",
    "registered_model_tags_from_list",
    "registered_model_to_dict",
]


def model_version_to_dict(version: ModelVersion) -> JSONObject:
    return compact(
        {
            "name": version.name,
            "version": version.version,
            "creation_timestamp": version.creation_timestamp,
            "last_updated_timestamp": version.last_updated_timestamp,
            "user_id": version.user_id,
            "current_stage": version.current_stage,
            "description": version.description,
            "source": version.source,
            "run_id": version.run_id,
            "status": version.status,
            "status_message": version.status_message,
            "tags": tags_to_list(version.tags),
            "run_link": version.run_link,
            "aliases": list(version.aliases),
            "model_id": version.model_id,
        }
    )


def model_version_from_dict(source: Mapping[str, object] | Message) -> ModelVersion:
    msg = as_message(source)
    return ModelVersion(
        name=msg.string("name", required=True),
        version=msg.string("version", required=True),
        creation_timestamp=msg.int64("creation_timestamp") or 0,
        last_updated_timestamp=msg.int64("last_updated_timestamp") or 0,
        source=msg.string("source") or "",
        user_id=msg.string("user_id") or None,
        current_stage=msg.string("current_stage") or ModelVersionStage.NONE,
        description=msg.string("description"),
        run_id=msg.string("run_id") or None,
        run_link=msg.string("run_link") or None,
        status=msg.string("status") or ModelVersionStatus.READY,
        status_message=msg.string("status_message"),
        model_id=msg.string("model_id") or None,
        tags=tags_from_list(msg),
        aliases=tuple(msg.strings("aliases")),
    )


def registered_model_to_dict(model: RegisteredModel) -> JSONObject:
    return compact(
        {
            "name": model.name,
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
            "user_id": model.user_id,
            "description": model.description,
            "latest_versions": [
                model_version_to_dict(v) for v in model.latest_versions
            ],
            "tags": tags_to_list(model.tags),
            "aliases": [
                {"alias": a.alias, "version": a.version} for a in model.aliases
            ],
        }
    )


def registered_model_from_dict(
    source: Mapping[str, object] | Message,
) -> RegisteredModel:
    msg = as_message(source)
    return RegisteredModel(
        name=msg.string("name", required=True),
        creation_timestamp=msg.int64("creation_timestamp") or 0,
        last_updated_timestamp=msg.int64("last_updated_timestamp") or 0,
        user_id=msg.string("user_id") or None,
        description=msg.string("description"),
        latest_versions=tuple(
            map(model_version_from_dict, msg.messages("latest_versions"))
        ),
        tags=tags_from_list(msg),
        aliases=tuple(
            RegisteredModelAlias(
                a.string("alias", required=True), a.string("version") or ""
            )
            for a in msg.messages("aliases")
        ),
    )


def registered_model_tags_from_list(msg: Message) -> list[RegisteredModelTag]:
    """The repeated ``tags`` field; an absent value reads as ""."""
    return [
        RegisteredModelTag(t.string("key", required=True), t.string("value") or "")
        for t in msg.messages("tags")
    ]


def model_version_tags_from_list(msg: Message) -> list[ModelVersionTag]:
    """The repeated ``tags`` field; an absent value reads as ""."""
    return [
        ModelVersionTag(t.string("key", required=True), t.string("value") or "")
        for t in msg.messages("tags")
    ]
