"""Custom Python models: :class:`PythonModel`, saved with cloudpickle.

A custom model is an instance of a :class:`PythonModel` subclass. It is
stored as ``python_model.pkl`` under the ``python_function`` flavor with
``loader_module: mlflow.pyfunc.model``, the layout MLflow uses, so MLflow
loads a Kiln model (with Kiln installed) and Kiln loads an MLflow one
(with the model's requirements installed, which for models saved by
MLflow include MLflow itself).

Loading a pickle runs code chosen by whoever wrote it. Load custom models
only from sources you trust.
"""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from kiln.errors import InvalidParameterValue, KilnError
from kiln.models.model import model_file

__all__ = [
    "ARTIFACTS_FOLDER",
    "LOADER_MODULE",
    "PICKLE_FILE",
    "PythonModel",
    "PythonModelContext",
    "load_python_model",
    "save_python_model",
]

LOADER_MODULE = "mlflow.pyfunc.model"
PICKLE_FILE = "python_model.pkl"
ARTIFACTS_FOLDER = "artifacts"

# MLflow's pickles refer to these classes; Kiln reads them as its own.
_MLFLOW_MODULES = ("mlflow.pyfunc.model", "mlflow.pyfunc")


class PythonModelContext:
    """What ``load_context`` receives: local paths of the model's artifacts and
    the model config."""

    def __init__(
        self, artifacts: Mapping[str, str], model_config: Mapping[str, Any] | None
    ) -> None:
        self._artifacts = dict(artifacts)
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        """Artifact name → absolute local path."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config


class _TypeHints(NamedTuple):
    input: Any = None
    output: Any = None


class PythonModel:
    """Base class of custom models: subclass it and implement ``predict``.

    ``load_context`` runs once when the model is loaded; read files from
    ``context.artifacts`` there. Example::

        class Doubler(PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input * 2
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Prepare the model (load weights, open files); nothing by default."""

    def predict(
        self,
        context: PythonModelContext,
        model_input: Any,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Return predictions for ``model_input`` (already checked against the
        signature)."""
        # Not an abstract method: cloudpickle rebuilds a class before its
        # methods, so an ABC subclass would look abstract while unpickling.
        raise NotImplementedError(
            f"{type(self).__name__} must implement predict(context, model_input, "
            "params=None)."
        )

    @property
    def predict_type_hints(self) -> _TypeHints:
        # MLflow's loader reads this attribute to convert inputs by type hint;
        # Kiln models declare none, so inputs reach predict unchanged.
        return _TypeHints()


def save_python_model(
    folder: Path, python_model: PythonModel, artifacts: Mapping[str, str] | None
) -> dict[str, Any]:
    """Pickle the model and copy its artifacts; return the flavor config."""
    import cloudpickle

    if not isinstance(python_model, PythonModel):
        raise InvalidParameterValue(
            f"python_model must be an instance of a kiln.pyfunc.PythonModel "
            f"subclass, got {type(python_model).__name__!r}."
        )
    with (folder / PICKLE_FILE).open("wb") as file:
        cloudpickle.dump(python_model, file)
    config: dict[str, Any] = {
        "loader_module": LOADER_MODULE,
        "python_model": PICKLE_FILE,
        "cloudpickle_version": cloudpickle.__version__,
    }
    if artifacts:
        config["artifacts"] = _copy_artifacts(folder, artifacts)
    return config


def _copy_artifacts(folder: Path, artifacts: Mapping[str, str]) -> dict[str, Any]:
    saved: dict[str, Any] = {}
    for name, source in artifacts.items():
        path = Path(source.removeprefix("file://"))
        if not path.exists():
            raise InvalidParameterValue(
                f"Artifact {name!r} points at {source!r}, which does not exist; "
                "give a local file or folder."
            )
        target = folder / ARTIFACTS_FOLDER / path.name
        target.parent.mkdir(exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copyfile(path, target)
        saved[name] = {"path": f"{ARTIFACTS_FOLDER}/{path.name}", "uri": source}
    return saved


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except ModuleNotFoundError:
            # Without MLflow installed, its base classes read as Kiln's. (Models
            # saved by MLflow 2.20 or later also pickle MLflow's predict
            # wrapper, so those still need MLflow, as their requirements say.)
            if module in _MLFLOW_MODULES and name == "PythonModel":
                return PythonModel
            if module in _MLFLOW_MODULES and name == "PythonModelContext":
                return PythonModelContext
            raise


def load_python_model(
    folder: Path, config: Mapping[str, Any], model_config: Mapping[str, Any] | None
) -> tuple[Any, PythonModelContext]:
    """Unpickle the model, then call its ``load_context``."""
    import cloudpickle  # noqa: F401  (registers the reducers pickles refer to)

    if "python_model" not in config:
        raise InvalidParameterValue(
            "The model's python_function flavor names no 'python_model' file "
            "(models defined as code are not supported yet); save the model again."
        )
    path = model_file(folder, config["python_model"])
    try:
        with path.open("rb") as file:
            python_model = _Unpickler(file).load()
    except ModuleNotFoundError as exc:
        raise KilnError(
            f"Loading the model needs module {exc.name!r}, which is not installed; "
            f"install the packages in its requirements.txt."
        ) from exc
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError) as exc:
        raise InvalidParameterValue(
            f"The model file {str(path)!r} is missing, truncated or corrupt ({exc}); "
            "save or log the model again."
        ) from exc
    artifacts = {
        name: str(model_file(folder, info["path"]))
        for name, info in (config.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, model_config)
    python_model.load_context(context)
    return python_model, context
