"""The ``MLmodel`` file: what a model folder holds and how to load it.

A model folder is self-describing. Its ``MLmodel`` YAML names the flavors the
model can be loaded as (always ``python_function`` for models Kiln's
:mod:`kiln.pyfunc` can run), the signature, the input example, where the
model was logged and when it was made. Keys follow MLflow's, so MLflow reads
Kiln's models and Kiln reads MLflow's; keys Kiln does not know are kept as
they are. Kiln writes ``kiln_version`` where MLflow writes ``mlflow_version``
(MLflow treats that key as optional).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.models.schema import ModelSignature

__all__ = ["MLMODEL_FILE", "PYFUNC_FLAVOR", "Model", "ModelInfo", "model_file"]

MLMODEL_FILE = "MLmodel"
PYFUNC_FLAVOR = "python_function"

# MLflow's own timestamp layout for utc_time_created.
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_KNOWN_KEYS = (
    "artifact_path",
    "flavors",
    "run_id",
    "model_id",
    "model_uuid",
    "utc_time_created",
    "signature",
    "saved_input_example_info",
    "model_size_bytes",
    "metadata",
)


def model_file(folder: Path, name: object) -> Path:
    """The file ``name`` (as written in MLmodel) inside the model ``folder``.

    An MLmodel naming a path outside its folder (``../x``, an absolute path,
    a link leading out) is refused with InvalidParameterValue.
    """
    from kiln.artifacts.paths import join_safely

    refused = InvalidParameterValue(
        f"The model's MLmodel names file {name!r}, which is not a relative path "
        "inside the model folder; save the model again."
    )
    if not isinstance(name, str) or not name:
        raise refused
    try:
        return join_safely(folder, name)
    except InvalidParameterValue as exc:
        raise refused from exc


def _kiln_version() -> str:
    from kiln import __version__

    return __version__


@dataclass
class Model:
    """The contents of one ``MLmodel`` file."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(
        default_factory=lambda: datetime.now(UTC).strftime(_TIME_FORMAT)
    )
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None
    # Keys written by other tools (mlflow_version, prompts, …), kept as read.
    extra: dict[str, Any] = field(default_factory=dict)

    def add_flavor(self, name: str, **config: Any) -> Model:
        """Record that the model loads as flavor ``name`` with ``config``."""
        self.flavors[name] = config
        return self

    @property
    def pyfunc_config(self) -> dict[str, Any]:
        """The ``python_function`` flavor's config; InvalidParameterValue if absent."""
        config = self.flavors.get(PYFUNC_FLAVOR)
        if config is None:
            raise InvalidParameterValue(
                f"The model has flavors {sorted(self.flavors)!r} but no "
                f"{PYFUNC_FLAVOR!r} flavor, so it cannot be loaded as a generic "
                "Python model; load it with its own flavor's load_model."
            )
        return config

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "artifact_path": self.artifact_path,
            "flavors": self.flavors,
            "kiln_version": _kiln_version(),
            "model_id": self.model_id,
            "model_size_bytes": self.model_size_bytes,
            "model_uuid": self.model_uuid,
            "run_id": self.run_id,
            "utc_time_created": self.utc_time_created,
        }
        if self.signature is not None:
            data["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            data["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata:
            data["metadata"] = self.metadata
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return {
            k: v for k, v in data.items() if not (k == "artifact_path" and v is None)
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``MLmodel`` into ``folder``, counting the folder's bytes first."""
        folder = Path(folder)
        self.model_size_bytes = sum(
            p.stat().st_size
            for p in folder.rglob("*")
            if p.is_file() and p.name != MLMODEL_FILE
        )
        path = folder / MLMODEL_FILE
        path.write_text(yaml.safe_dump(self.to_dict(), default_flow_style=False))
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        signature = data.get("signature")
        extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        extra.pop("kiln_version", None)
        return cls(
            flavors=dict(data.get("flavors") or {}),
            artifact_path=data.get("artifact_path"),
            run_id=data.get("run_id"),
            model_id=data.get("model_id"),
            model_uuid=data.get("model_uuid") or uuid.uuid4().hex,
            utc_time_created=str(data.get("utc_time_created", "")),
            signature=ModelSignature.from_dict(signature) if signature else None,
            saved_input_example_info=data.get("saved_input_example_info"),
            model_size_bytes=data.get("model_size_bytes"),
            metadata=data.get("metadata"),
            extra=extra,
        )

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Read the ``MLmodel`` of a model folder (or the file itself).

        Raises ResourceDoesNotExist when there is none and InvalidParameterValue
        when it is not a YAML mapping.
        """
        path = Path(path)
        file = path / MLMODEL_FILE if path.is_dir() else path
        if not file.is_file():
            raise ResourceDoesNotExist(
                f"No {MLMODEL_FILE} file in {str(path)!r}; point at the folder that "
                "save_model wrote or log_model uploaded."
            )
        try:
            data = yaml.safe_load(file.read_text())
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidParameterValue(
                f"The {MLMODEL_FILE} file {str(file)!r} is not valid YAML ({exc}); "
                "save the model again."
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
            raise InvalidParameterValue(
                f"The {MLMODEL_FILE} file {str(file)!r} has no 'flavors' mapping; "
                "save the model again."
            )
        return cls.from_dict(data)

    def info(self, model_uri: str) -> ModelInfo:
        """Describe this model as found at ``model_uri``."""
        return ModelInfo(
            artifact_path=self.artifact_path,
            flavors=self.flavors,
            model_uri=model_uri,
            model_uuid=self.model_uuid,
            run_id=self.run_id,
            model_id=self.model_id,
            saved_input_example_info=self.saved_input_example_info,
            signature=self.signature,
            utc_time_created=self.utc_time_created,
            metadata=self.metadata,
            model_size_bytes=self.model_size_bytes,
        )


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` and ``get_model_info`` return about a model."""

    artifact_path: str | None
    flavors: dict[str, dict[str, Any]]
    model_uri: str
    model_uuid: str
    run_id: str | None
    model_id: str | None
    saved_input_example_info: dict[str, Any] | None
    signature: ModelSignature | None
    utc_time_created: str
    metadata: dict[str, Any] | None
    model_size_bytes: int | None
