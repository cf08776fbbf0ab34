"""Model signatures: what a model takes, what it returns, which params it accepts.

The classes mirror MLflow's schema JSON (stored as JSON strings inside the
``MLmodel`` file), so a signature written by either side reads on the other:

* column-based: ``[{"name": "a", "type": "double", "required": true}, …]``
  with scalar, ``array``, ``object``, ``map`` and ``any`` types;
* tensor-based: ``[{"name": "img", "type": "tensor",
  "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}}]``;
* params: ``[{"name": "k", "type": "long", "default": 3, "shape": null}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from kiln.errors import InvalidParameterValue

__all__ = [
    "SCALAR_TYPES",
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]

# MLflow's scalar column types, narrowest first within each family.
SCALAR_TYPES = (
    "boolean",
    "integer",
    "long",
    "float",
    "double",
    "string",
    "binary",
    "datetime",
)


@dataclass(frozen=True, slots=True)
class Array:
    """A column whose values are lists of ``items``."""

    items: DataType

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": type_to_dict(self.items)}


@dataclass(frozen=True, slots=True)
class Property:
    """One named field of an :class:`Object`."""

    name: str
    type: DataType
    required: bool = True


@dataclass(frozen=True, slots=True)
class Object:
    """A column whose values are dicts with known fields."""

    properties: tuple[Property, ...]

    def to_dict(self) -> dict[str, Any]:
        fields = {
            p.name: {**type_to_dict(p.type), "required": p.required}
            for p in self.properties
        }
        return {"type": "object", "properties": fields}


@dataclass(frozen=True, slots=True)
class Map:
    """A column whose values are dicts from strings to ``values``."""

    values: DataType

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": type_to_dict(self.values)}


@dataclass(frozen=True, slots=True)
class AnyType:
    """A column that accepts any value."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}


# A scalar type is its MLflow name ("double", "string", …).
DataType: TypeAlias = str | Array | Object | Map | AnyType


def type_to_dict(data_type: DataType) -> dict[str, Any]:
    """The JSON form of a column type."""
    if isinstance(data_type, str):
        return {"type": data_type}
    return data_type.to_dict()


def type_from_dict(spec: dict[str, Any]) -> DataType:
    """Read a column type from its JSON form."""
    kind = spec.get("type")
    if kind in SCALAR_TYPES:
        return str(kind)
    if kind == "array":
        return Array(type_from_dict(spec["items"]))
    if kind == "object":
        properties = tuple(
            Property(name, type_from_dict(sub), bool(sub.get("required", True)))
            for name, sub in sorted(spec.get("properties", {}).items())
        )
        return Object(properties)
    if kind == "map":
        return Map(type_from_dict(spec["values"]))
    if kind == "any":
        return AnyType()
    raise InvalidParameterValue(
        f"Unknown column type {kind!r} in a model signature; expected one of "
        f"{', '.join(SCALAR_TYPES)}, array, object, map or any."
    )


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One column of a column-based schema; ``name`` None means positional."""

    type: DataType
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        spec = type_to_dict(self.type)
        if self.name is not None:
            spec["name"] = self.name
        spec["required"] = self.required
        return spec


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor: a numpy dtype name and a shape where -1 means any size."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            spec["name"] = self.name
        return spec


@dataclass(frozen=True, slots=True)
class Schema:
    """A model's inputs or outputs: all columns or all tensors."""

    inputs: tuple[ColSpec, ...] | tuple[TensorSpec, ...]

    def __post_init__(self) -> None:
        kinds = {type(spec) for spec in self.inputs}
        if len(kinds) > 1:
            raise InvalidParameterValue(
                "A schema mixes columns and tensors; use only one kind of spec."
            )

    @property
    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        return bool(self.inputs) and all(s.name is not None for s in self.inputs)

    def names(self) -> list[str]:
        return [s.name for s in self.inputs if s.name is not None]

    def to_json(self) -> str:
        return json.dumps([spec.to_dict() for spec in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        specs = json.loads(text)
        if not isinstance(specs, list):
            raise InvalidParameterValue(
                f"A model schema must be a JSON list, got {text[:80]!r}."
            )
        if specs and all(s.get("type") == "tensor" for s in specs):
            return cls(tuple(_tensor_from_dict(s) for s in specs))
        columns = tuple(
            ColSpec(type_from_dict(s), s.get("name"), bool(s.get("required", True)))
            for s in specs
        )
        return cls(columns)


def _tensor_from_dict(spec: dict[str, Any]) -> TensorSpec:
    tensor = spec["tensor-spec"]
    return TensorSpec(
        str(tensor["dtype"]), tuple(int(n) for n in tensor["shape"]), spec.get("name")
    )


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One inference parameter with its type, default and optional shape."""

    name: str
    type: str
    default: Any
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        shape = list(self.shape) if self.shape is not None else None
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "shape": shape,
        }


@dataclass(frozen=True, slots=True)
class ParamSchema:
    """The params a model's ``predict`` accepts."""

    params: tuple[ParamSpec, ...]

    def to_json(self) -> str:
        return json.dumps([p.to_dict() for p in self.params])

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        specs = json.loads(text)
        return cls(
            tuple(
                ParamSpec(
                    s["name"],
                    s["type"],
                    s.get("default"),
                    tuple(s["shape"]) if s.get("shape") is not None else None,
                )
                for s in specs
            )
        )


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """Inputs, outputs and params of a model, as stored in ``MLmodel``."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = field(default=None)

    def to_dict(self) -> dict[str, str | None]:
        """The ``signature`` block of ``MLmodel``: JSON strings or null."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, block: dict[str, Any]) -> ModelSignature:
        inputs, outputs, params = (
            block.get(k) for k in ("inputs", "outputs", "params")
        )
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )
