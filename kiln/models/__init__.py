"""Kiln's model format: the ``MLmodel`` file, signatures and input examples.

Flavors build on it: :mod:`kiln.pyfunc` for any Python model and custom
``PythonModel`` subclasses, :mod:`kiln.sklearn` for scikit-learn.
"""

from __future__ import annotations

from kiln.models.model import Model, ModelInfo
from kiln.models.schema import (
    AnyType,
    Array,
    ColSpec,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)
from kiln.models.signature import infer_signature

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "Map",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "infer_signature",
]
