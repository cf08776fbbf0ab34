"""Load any model folder as a generic Python model, :class:`PyFuncModel`.

The ``python_function`` flavor names a ``loader_module``. Kiln maps the
loader modules it knows (its own and MLflow's names for the same formats)
to Kiln code; each exposes ``load_pyfunc(folder, model, model_config)``
returning an object with ``predict(model_input, params)``. The signature is
applied before every call.
"""

from __future__ import annotations

import inspect
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol

from kiln.errors import KilnError, NotImplementedFeature
from kiln.models.enforcement import enforce_input, enforce_params
from kiln.models.model import Model, model_file
from kiln.models.python_model import (
    LOADER_MODULE,
    PythonModelContext,
    load_python_model,
)

__all__ = ["Predictor", "PyFuncModel", "load_pyfunc_model"]

# loader_module named in MLmodel → (Kiln module, package to install).
_LOADERS: dict[str, tuple[str, str]] = {
    LOADER_MODULE: ("kiln.models.pyfunc_model", "kiln-ml[models]"),
    "mlflow.sklearn": ("kiln.sklearn", "kiln-ml[sklearn]"),
    "mlflow.pytorch": ("kiln.pytorch", "kiln-ml[pytorch]"),
}


class Predictor(Protocol):
    """What a flavor's ``load_pyfunc`` returns."""

    def predict(self, model_input: Any, params: dict[str, Any] | None) -> Any: ...


class PythonModelPredictor:
    """Runs a custom :class:`~kiln.models.python_model.PythonModel`."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        parameters = inspect.signature(python_model.predict).parameters
        # MLflow also accepts predict(model_input, params) without a context.
        self._wants_context = "context" in parameters
        self._wants_params = "params" in parameters

    def predict(self, model_input: Any, params: dict[str, Any] | None) -> Any:
        kwargs = {"params": params} if self._wants_params else {}
        if self._wants_context:
            return self.python_model.predict(self.context, model_input, **kwargs)
        return self.python_model.predict(model_input, **kwargs)


def load_pyfunc(
    folder: Path, model: Model, model_config: dict[str, Any] | None
) -> Predictor:
    """The loader for custom models (``loader_module: mlflow.pyfunc.model``)."""
    config = model.pyfunc_config
    merged = {**(config.get("model_config") or {}), **(model_config or {})}
    python_model, context = load_python_model(folder, config, merged)
    return PythonModelPredictor(python_model, context)


class PyFuncModel:
    """A loaded model: ``predict`` checks input against the signature first."""

    def __init__(self, metadata: Model, predictor: Predictor, folder: Path) -> None:
        self.metadata = metadata
        self._predictor = predictor
        self.folder = folder

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict for a DataFrame, numpy array, dict of columns or list of rows.

        Raises InvalidParameterValue when the input or params do not fit the
        model's signature.
        """
        signature = self.metadata.signature
        model_input = enforce_input(data, signature.inputs if signature else None)
        checked = enforce_params(params, signature.params if signature else None)
        return self._predictor.predict(model_input, checked)

    def unwrap_python_model(self) -> Any:
        """The underlying object: the custom PythonModel or the estimator."""
        if isinstance(self._predictor, PythonModelPredictor):
            return self._predictor.python_model
        return getattr(self._predictor, "model", self._predictor)

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"<PyFuncModel flavors=[{flavors}] run_id={self.metadata.run_id!r}>"


def _loader(name: str) -> Any:
    known = _LOADERS.get(name)
    if known is None:
        supported = ", ".join(sorted(_LOADERS))
        raise NotImplementedFeature(
            f"The model's loader module {name!r} is not one Kiln can load yet; "
            f"supported: {supported}."
        )
    module_name, package = known
    try:
        return import_module(module_name)
    except ImportError as exc:
        raise KilnError(
            f"Loading this model needs {exc.name!r}, which is not installed; "
            f"run pip install '{package}'."
        ) from exc


def _add_code_paths(folder: Path, config: dict[str, Any]) -> str | None:
    """Put the model's saved code first on ``sys.path``; return what was added."""
    code = config.get("code")
    if not code:
        return None
    # Code saved with the model is importable before the model is unpickled.
    path = str(model_file(folder, code))
    if path in sys.path:
        return None
    sys.path.insert(0, path)
    return path


def load_pyfunc_model(
    folder: Path, model_config: dict[str, Any] | None = None
) -> PyFuncModel:
    """Load the model in ``folder`` through its python_function flavor."""
    model = Model.load(folder)
    config = model.pyfunc_config
    module = _loader(str(config.get("loader_module")))
    added = _add_code_paths(folder, config)
    try:
        predictor = module.load_pyfunc(folder, model, model_config)
    except BaseException:
        # A model that fails to load leaves no trace on the import path.
        if added is not None and added in sys.path:
            sys.path.remove(added)
        raise
    return PyFuncModel(model, predictor, folder)
