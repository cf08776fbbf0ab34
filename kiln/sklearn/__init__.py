"""scikit-learn models: save, log and load estimators and pipelines.

Models are serialised with skops by default (``model.skops``), which
rebuilds only types it trusts instead of running arbitrary code. The
``pickle`` and ``cloudpickle`` formats handle anything, but **loading a
pickle runs code chosen by whoever wrote it**: load those only from sources
you trust. The files and ``MLmodel`` keys match MLflow's sklearn flavor, so
either tool loads the other's models.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiln.errors import InvalidParameterValue, KilnError
from kiln.models.model import PYFUNC_FLAVOR, Model, ModelInfo, model_file
from kiln.models.run_logging import log_model_folder
from kiln.models.saving import ModelFiles, write_model
from kiln.models.schema import ModelSignature
from kiln.models.uris import download_model
from kiln.sklearn.autolog import autolog

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMATS",
    "autolog",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "sklearn"
# MLflow's loader module name, so MLflow loads Kiln's sklearn models.
LOADER_MODULE = "mlflow.sklearn"
SERIALIZATION_FORMATS = ("skops", "cloudpickle", "pickle")
_FILES = {"skops": "model.skops", "cloudpickle": "model.pkl", "pickle": "model.pkl"}


def _import_sklearn() -> Any:
    try:
        import sklearn
    except ImportError as exc:
        raise KilnError(
            "scikit-learn models need the 'scikit-learn' package, which is not "
            "installed; run pip install 'kiln-ml[sklearn]'."
        ) from exc
    return sklearn


def _dump(sk_model: Any, path: Path, serialization_format: str) -> None:
    if serialization_format == "skops":
        import skops.io

        skops.io.dump(sk_model, path)
    elif serialization_format == "cloudpickle":
        import cloudpickle

        with path.open("wb") as file:
            cloudpickle.dump(sk_model, file)
    else:
        with path.open("wb") as file:
            pickle.dump(sk_model, file)


def _check_skops_types(path: Path, trusted: Sequence[str] | None) -> None:
    import skops.io

    untrusted = [
        t for t in skops.io.get_untrusted_types(file=path) if t not in (trusted or ())
    ]
    if untrusted:
        raise InvalidParameterValue(
            f"The model uses types skops does not trust by default: {untrusted!r}; "
            "pass them as skops_trusted_types if you trust them, or use "
            "serialization_format='cloudpickle'."
        )


def save_model(
    sk_model: Any,
    path: str | Path,
    serialization_format: str = "skops",
    skops_trusted_types: Sequence[str] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    pyfunc_predict_fn: str = "predict",
    *,
    _model: Model | None = None,
) -> Model:
    """Save an estimator or pipeline into the new folder ``path``.

    Without ``signature`` one is inferred from ``input_example`` and the
    model's predictions on it. Raises InvalidParameterValue for an unknown
    format, or skops types not listed in ``skops_trusted_types``.
    """
    sklearn = _import_sklearn()
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameterValue(
            f"Unknown serialization_format {serialization_format!r}; use one of "
            f"{', '.join(SERIALIZATION_FORMATS)}."
        )
    if not callable(getattr(sk_model, pyfunc_predict_fn, None)):
        raise InvalidParameterValue(
            f"The model has no method {pyfunc_predict_fn!r}; give an existing "
            "method as pyfunc_predict_fn."
        )
    file_name = _FILES[serialization_format]
    serializer = "skops" if serialization_format == "skops" else "cloudpickle"
    files = ModelFiles(
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        code_paths=code_paths,
        metadata=metadata,
        distributions=["scikit-learn", serializer, "numpy", "scipy", "pandas"],
    )
    trusted = list(skops_trusted_types) if skops_trusted_types else None

    def add_flavors(folder: Path, model: Model) -> None:
        _dump(sk_model, folder / file_name, serialization_format)
        if serialization_format == "skops":
            _check_skops_types(folder / file_name, trusted)
        model.add_flavor(
            PYFUNC_FLAVOR,
            loader_module=LOADER_MODULE,
            model_path=file_name,
            predict_fn=pyfunc_predict_fn,
        )
        model.add_flavor(
            FLAVOR_NAME,
            pickled_model=file_name,
            sklearn_version=sklearn.__version__,
            serialization_format=serialization_format,
            code=None,
            skops_trusted_types=trusted,
        )

    predict = getattr(sk_model, pyfunc_predict_fn)
    return write_model(path, files, add_flavors, predict, _model)


def log_model(
    sk_model: Any,
    name: str = "model",
    serialization_format: str = "skops",
    skops_trusted_types: Sequence[str] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    pyfunc_predict_fn: str = "predict",
    run_id: str | None = None,
) -> ModelInfo:
    """Save an estimator into the artifacts of ``run_id`` (default: the active
    run) under ``name``; the result's ``model_uri`` loads it back."""

    def save(folder: Path, model: Model) -> Model:
        return save_model(
            sk_model,
            folder,
            serialization_format=serialization_format,
            skops_trusted_types=skops_trusted_types,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            code_paths=code_paths,
            metadata=metadata,
            pyfunc_predict_fn=pyfunc_predict_fn,
            _model=model,
        )

    return log_model_folder(name, run_id, save)


def _read_estimator(path: Path, config: dict[str, Any]) -> Any:
    _import_sklearn()
    serialization_format = config.get("serialization_format", "pickle")
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameterValue(
            f"The model's serialization format {serialization_format!r} is "
            f"unknown; Kiln reads {', '.join(SERIALIZATION_FORMATS)}."
        )
    try:
        if serialization_format == "skops":
            import skops.io

            _check_skops_types(path, config.get("skops_trusted_types"))
            return skops.io.load(path, trusted=config.get("skops_trusted_types"))
        import cloudpickle  # noqa: F401  (registers reducers cloudpickle files need)

        with path.open("rb") as file:
            return pickle.load(file)
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
        KeyError,
        ValueError,
    ) as exc:
        raise InvalidParameterValue(
            f"The model file {str(path)!r} is missing, truncated or corrupt "
            f"({exc}); save or log the model again."
        ) from exc


def _flavor_config(model: Model, model_uri: str) -> dict[str, Any]:
    config = model.flavors.get(FLAVOR_NAME)
    if config is None:
        raise InvalidParameterValue(
            f"The model at {model_uri!r} has flavors {sorted(model.flavors)!r} "
            f"but no {FLAVOR_NAME!r} flavor; load it with kiln.pyfunc.load_model."
        )
    return config


def load_model(model_uri: str | Path) -> Any:
    """Load the estimator or pipeline saved at ``model_uri``.

    skops files load only types skops trusts plus the model's
    ``skops_trusted_types``; pickle files run their author's code on load.
    """
    folder = download_model(str(model_uri))
    model = Model.load(folder)
    config = _flavor_config(model, str(model_uri))
    return _read_estimator(model_file(folder, config.get("pickled_model")), config)


class SklearnPredictor:
    """Calls the estimator's predict method (``predict_fn`` in MLmodel)."""

    def __init__(self, model: Any, predict_fn: str) -> None:
        self.model = model
        self._predict = getattr(model, predict_fn)

    def predict(self, model_input: Any, params: dict[str, Any] | None) -> Any:
        return self._predict(model_input)


def load_pyfunc(
    folder: Path, model: Model, model_config: dict[str, Any] | None
) -> SklearnPredictor:
    """The python_function loader for sklearn models (Kiln's or MLflow's)."""
    pyfunc = model.pyfunc_config
    config = model.flavors.get(FLAVOR_NAME) or {"serialization_format": "pickle"}
    # Models saved by MLflow 1.x name the file under "data".
    file_name = (
        pyfunc.get("model_path") or pyfunc.get("data") or config.get("pickled_model")
    )
    estimator = _read_estimator(model_file(folder, file_name), config)
    return SklearnPredictor(estimator, str(pyfunc.get("predict_fn", "predict")))
