"""What each kind of search lets a filter and an ``order_by`` name.

One grammar serves five searches (runs, experiments, registered models,
model versions, logged models); a :class:`SearchSpec` says which prefixes,
attributes and operators each one accepts, following MLflow's rules so that
a filter written for an MLflow server means the same on Kiln.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kiln.search.syntax import (
    LIST_OPERATORS,
    NULL_OPERATORS,
    NUMERIC_OPERATORS,
    STRING_OPERATORS,
    Entity,
    Operator,
)

#: The words a filter may write before the dot, and the entity each means.
#: Matched case-insensitively.
PREFIXES: Mapping[str, Entity] = MappingProxyType(
    {
        "metric": Entity.METRIC,
        "metrics": Entity.METRIC,
        "param": Entity.PARAM,
        "params": Entity.PARAM,
        "parameter": Entity.PARAM,
        "parameters": Entity.PARAM,
        "tag": Entity.TAG,
        "tags": Entity.TAG,
        "attribute": Entity.ATTRIBUTE,
        "attributes": Entity.ATTRIBUTE,
        "attr": Entity.ATTRIBUTE,
        "run": Entity.ATTRIBUTE,
        "dataset": Entity.DATASET,
        "datasets": Entity.DATASET,
    }
)

#: The input tag that holds a dataset's context (``training``, ``eval``…).
DATASET_CONTEXT_TAG = "mlflow.data.context"

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, eq=False)
class SearchSpec:
    """The identifiers and operators one kind of search accepts.

    ``kind`` names the search in error messages ("runs", "experiments"…).
    Attributes are either strings or numbers; ``aliases`` map extra spellings
    to canonical attribute names. ``list_attributes`` may use ``IN``;
    ``nullable`` entities may use ``IS [NOT] NULL``.
    """

    kind: str
    entities: frozenset[Entity]
    string_attributes: frozenset[str]
    numeric_attributes: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    list_attributes: frozenset[str] = frozenset()
    nullable: frozenset[Entity] = frozenset()
    dataset_keys: frozenset[str] = frozenset()
    order_attributes: frozenset[str] = frozenset()
    order_aliases: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    order_entities: frozenset[Entity] = frozenset()

    def resolve_attribute(self, name: str) -> str | None:
        """The canonical attribute a filter's name means, or None."""
        name = self.aliases.get(name, name)
        if name in self.string_attributes or name in self.numeric_attributes:
            return name
        return None

    def resolve_order_attribute(self, name: str) -> str | None:
        """The canonical attribute an ``order_by`` name means, or None."""
        if name in self.order_aliases:
            return self.order_aliases[name]
        return name if name in self.order_attributes else None

    def is_numeric(self, entity: Entity, key: str) -> bool:
        """Whether comparisons on this identifier take an unquoted number."""
        if entity is Entity.METRIC:
            return True
        return entity is Entity.ATTRIBUTE and key in self.numeric_attributes

    def operators(self, entity: Entity, key: str) -> frozenset[Operator]:
        """The operators a filter may apply to ``entity.key``."""
        if self.is_numeric(entity, key):
            return NUMERIC_OPERATORS
        allowed = STRING_OPERATORS
        if entity is Entity.DATASET or (
            entity is Entity.ATTRIBUTE and key in self.list_attributes
        ):
            allowed = allowed | LIST_OPERATORS
        if entity in self.nullable:
            allowed = allowed | NULL_OPERATORS
        return allowed

    def attribute_names(self) -> list[str]:
        """Every attribute spelling a filter accepts, sorted, for messages."""
        names = self.string_attributes | self.numeric_attributes
        return sorted(names | set(self.aliases))


RUNS = SearchSpec(
    kind="runs",
    entities=frozenset(Entity),
    string_attributes=frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri"}
    ),
    numeric_attributes=frozenset({"start_time", "end_time"}),
    aliases=MappingProxyType(
        {
            "created": "start_time",
            "Created": "start_time",
            "run name": "run_name",
            "Run name": "run_name",
            "Run Name": "run_name",
        }
    ),
    list_attributes=frozenset({"run_id"}),
    nullable=frozenset({Entity.PARAM, Entity.TAG}),
    dataset_keys=frozenset({"name", "digest", "context"}),
    order_attributes=frozenset(
        {
            "run_id",
            "run_name",
            "status",
            "user_id",
            "artifact_uri",
            "start_time",
            "end_time",
        }
    ),
    order_aliases=MappingProxyType(
        {
            "created": "start_time",
            "Created": "start_time",
            "Run name": "run_name",
        }
    ),
    order_entities=frozenset({Entity.METRIC, Entity.PARAM, Entity.TAG}),
)

EXPERIMENTS = SearchSpec(
    kind="experiments",
    entities=frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    string_attributes=frozenset({"name", "experiment_id"}),
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    list_attributes=frozenset({"experiment_id"}),
    nullable=frozenset({Entity.TAG}),
    order_attributes=frozenset(
        {"name", "experiment_id", "creation_time", "last_update_time"}
    ),
)

# MLflow's SQL store orders registered models by ``timestamp`` (their
# creation time) and refuses ``creation_timestamp``; Kiln does the same so
# that clients written against it keep working.
REGISTERED_MODELS = SearchSpec(
    kind="registered models",
    entities=frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    string_attributes=frozenset({"name"}),
    list_attributes=frozenset({"name"}),
    order_attributes=frozenset({"name", "last_updated_timestamp"}),
    order_aliases=MappingProxyType({"timestamp": "creation_timestamp"}),
)

MODEL_VERSIONS = SearchSpec(
    kind="model versions",
    entities=frozenset({Entity.ATTRIBUTE, Entity.TAG}),
    string_attributes=frozenset({"name", "run_id", "source_path"}),
    numeric_attributes=frozenset({"version_number"}),
    list_attributes=frozenset({"name", "run_id"}),
    order_attributes=frozenset(
        {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
    ),
)

# Logged models: metric comparisons match any point logged with the model's
# id, as in MLflow. order_by arrives structured ({field_name, ascending…})
# and may name an attribute or a metric.
LOGGED_MODELS = SearchSpec(
    kind="logged models",
    entities=frozenset({Entity.ATTRIBUTE, Entity.METRIC, Entity.PARAM, Entity.TAG}),
    string_attributes=frozenset(
        {"model_id", "name", "model_type", "status", "source_run_id"}
    ),
    numeric_attributes=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    aliases=MappingProxyType(
        {
            "creation_time": "creation_timestamp",
            "creation_timestamp_ms": "creation_timestamp",
            "last_updated_time": "last_updated_timestamp",
            "last_updated_timestamp_ms": "last_updated_timestamp",
        }
    ),
    list_attributes=frozenset(
        {"model_id", "name", "model_type", "status", "source_run_id"}
    ),
    order_attributes=frozenset(
        {
            "model_id",
            "name",
            "model_type",
            "status",
            "source_run_id",
            "creation_timestamp",
            "last_updated_timestamp",
        }
    ),
    order_aliases=MappingProxyType(
        {
            "creation_time": "creation_timestamp",
            "creation_timestamp_ms": "creation_timestamp",
            "last_updated_time": "last_updated_timestamp",
            "last_updated_timestamp_ms": "last_updated_timestamp",
        }
    ),
    order_entities=frozenset({Entity.METRIC}),
)
