"""Kiln's generic model interface: save, log and load any model as a Python
function with ``predict``.

Custom models subclass :class:`PythonModel`::

    class AddN(kiln.pyfunc.PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return model_input + self.n

    info = kiln.pyfunc.log_model(python_model=AddN(5), name="model")
    model = kiln.pyfunc.load_model(info.model_uri)

Custom models are pickled with cloudpickle, and loading a pickle runs code
its author chose: load models only from sources you trust.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.models.environment import imported_distributions
from kiln.models.model import PYFUNC_FLAVOR, Model, ModelInfo
from kiln.models.pyfunc_model import PyFuncModel, load_pyfunc_model
from kiln.models.python_model import (
    PythonModel,
    PythonModelContext,
    save_python_model,
)
from kiln.models.run_logging import log_model_folder
from kiln.models.saving import ModelFiles, write_model
from kiln.models.schema import ModelSignature
from kiln.models.uris import download_model

__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "get_model_info",
    "load_model",
    "log_model",
    "save_model",
]


def save_model(
    path: str | Path,
    python_model: PythonModel,
    artifacts: Mapping[str, str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    *,
    _model: Model | None = None,
) -> Model:
    """Save a custom model into the new folder ``path``; return its MLmodel.

    ``artifacts`` maps names to local files copied into the model (read them
    in ``load_context`` via ``context.artifacts[name]``); ``code_paths`` are
    copied too and put on ``sys.path`` when loading. Without ``signature`` one
    is inferred from ``input_example`` and the model's output on it.
    """
    files = ModelFiles(
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        code_paths=code_paths,
        metadata=metadata,
        distributions=["cloudpickle", *imported_distributions(python_model)],
    )

    def add_flavors(folder: Path, model: Model) -> None:
        config = save_python_model(folder, python_model, artifacts)
        if model_config:
            config["model_config"] = model_config
        model.add_flavor(PYFUNC_FLAVOR, **config)

    def predict(example: Any) -> Any:
        context = PythonModelContext(
            {name: str(Path(p).absolute()) for name, p in (artifacts or {}).items()},
            model_config,
        )
        python_model.load_context(context)
        return python_model.predict(context, example)

    return write_model(path, files, add_flavors, predict, _model)


def log_model(
    python_model: PythonModel,
    name: str = "model",
    artifacts: Mapping[str, str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Save a custom model into the artifacts of ``run_id`` (default: the
    active run) under ``name``; the result's ``model_uri`` loads it back."""

    def save(folder: Path, model: Model) -> Model:
        return save_model(
            folder,
            python_model,
            artifacts=artifacts,
            code_paths=code_paths,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            model_config=model_config,
            _model=model,
        )

    return log_model_folder(name, run_id, save)


def load_model(
    model_uri: str | Path, model_config: dict[str, Any] | None = None
) -> PyFuncModel:
    """Load any model with a python_function flavor from a path or URI.

    Accepts local paths, ``file:``, ``runs:/<run_id>/<path>``,
    ``mlflow-artifacts:/…`` and ``s3://…`` URIs. Raises ResourceDoesNotExist
    when nothing is there, InvalidParameterValue for a broken model and
    NotImplementedFeature for a flavor Kiln cannot load.
    """
    folder = download_model(str(model_uri))
    return load_pyfunc_model(folder, model_config)


def get_model_info(model_uri: str | Path) -> ModelInfo:
    """Describe the model at ``model_uri`` from its MLmodel, without loading it."""
    folder = download_model(str(model_uri))
    return Model.load(folder).info(str(model_uri))
