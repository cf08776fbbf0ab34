"""The registry's history on the wire, for Kiln's own endpoints.

An entry is an object with the entity's field names; versions travel as
strings (``"3"``), as everywhere in the registry, and unset fields are left
out.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import RegistryHistoryEntry
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message
from kiln.wire.message import Message

__all__ = ["history_entry_from_dict", "history_entry_to_dict"]


def history_entry_to_dict(entry: RegistryHistoryEntry) -> JSONObject:
    return compact(
        {
            "id": entry.id,
            "name": entry.name,
            "kind": entry.kind,
            "timestamp": entry.timestamp,
            "alias": entry.alias,
            "version": entry.version,
            "previous_version": entry.previous_version,
            "stage": entry.stage,
            "previous_stage": entry.previous_stage,
            "user_id": entry.user_id,
            "reason": entry.reason,
        }
    )


def history_entry_from_dict(
    source: Mapping[str, object] | Message,
) -> RegistryHistoryEntry:
    msg = as_message(source)
    return RegistryHistoryEntry(
        id=msg.int64("id", required=True),
        name=msg.string("name", required=True),
        kind=msg.string("kind", required=True),
        timestamp=msg.int64("timestamp") or 0,
        alias=msg.string("alias"),
        version=msg.string("version"),
        previous_version=msg.string("previous_version"),
        stage=msg.string("stage"),
        previous_stage=msg.string("previous_stage"),
        user_id=msg.string("user_id"),
        reason=msg.string("reason"),
    )
