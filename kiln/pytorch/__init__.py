"""PyTorch models: save, log and load ``torch.nn.Module`` models on the CPU.

The whole module is stored with ``torch.save`` and cloudpickle as
``data/model.pth``, so **loading it runs code chosen by whoever saved it**:
load PyTorch models only from sources you trust. Files and ``MLmodel`` keys
match MLflow's pytorch flavor, so either tool loads the other's models.

As a generic model (:func:`kiln.pyfunc.load_model`) it takes a DataFrame
(read as float32) or a numpy array, and returns a DataFrame or an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from kiln.errors import InvalidParameterValue, KilnError, NotImplementedFeature
from kiln.models.model import PYFUNC_FLAVOR, Model, ModelInfo, model_file
from kiln.models.run_logging import log_model_folder
from kiln.models.saving import ModelFiles, write_model
from kiln.models.schema import ModelSignature
from kiln.models.uris import download_model

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMATS",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "pytorch"
# MLflow's loader module name, so MLflow loads Kiln's PyTorch models.
LOADER_MODULE = "mlflow.pytorch"
DATA_FOLDER = "data"
MODEL_FILE = "model.pth"
EXPORTED_FILE = "model.pt2"
PICKLE_MODULE_FILE = "pickle_module_info.txt"
# The name written into PICKLE_MODULE_FILE: MLflow's cloudpickle adapter,
# which MLflow imports when loading; Kiln reads it with its own adapter.
PICKLE_MODULE_NAME = "mlflow.pytorch.pickle_module"
SERIALIZATION_FORMATS = ("pickle", "pt2")
_KILN_PICKLE_MODULE = "kiln.pytorch.pickle_module"
_PICKLE_MODULES = {
    PICKLE_MODULE_NAME: _KILN_PICKLE_MODULE,
    _KILN_PICKLE_MODULE: _KILN_PICKLE_MODULE,
    "cloudpickle": _KILN_PICKLE_MODULE,
    "pickle": "pickle",
}


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise KilnError(
            "PyTorch models need the 'torch' package, which is not installed; "
            "run pip install 'kiln-ml[pytorch]'."
        ) from exc
    return torch


def _as_numpy(example: Any, torch: Any) -> Any:
    """A tensor example (or a dict of tensors) as numpy, which Kiln saves."""
    if isinstance(example, torch.Tensor):
        return example.detach().cpu().numpy()
    if isinstance(example, dict) and any(
        isinstance(v, torch.Tensor) for v in example.values()
    ):
        return {
            k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v
            for k, v in example.items()
        }
    return example


def save_model(
    pytorch_model: Any,
    path: str | Path,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str = "pickle",
    *,
    _model: Model | None = None,
) -> Model:
    """Save a ``torch.nn.Module`` into the new folder ``path``.

    ``input_example`` may be a tensor, a numpy array or a DataFrame; without
    ``signature`` one is inferred from it and the model's output on it.
    ``serialization_format="pt2"`` stores a graph traced with
    ``torch.export`` on the (tensor or array) example instead of a pickle;
    its batch size stays free. Raises InvalidParameterValue when the model is
    not a ``torch.nn.Module`` or a pt2 model has no array example.
    """
    torch = _import_torch()
    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameterValue(
            f"Expected a torch.nn.Module, got {type(pytorch_model).__name__!r}; "
            "pass the model itself."
        )
    if serialization_format not in SERIALIZATION_FORMATS:
        raise InvalidParameterValue(
            f"Unknown serialization_format {serialization_format!r}; use one of "
            f"{', '.join(SERIALIZATION_FORMATS)}."
        )
    example = _as_numpy(input_example, torch)
    files = ModelFiles(
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        code_paths=code_paths,
        metadata=metadata,
        distributions=["torch", "cloudpickle", "numpy", "pandas"],
    )

    def add_flavors(folder: Path, model: Model) -> None:
        from kiln.pytorch import pickle_module

        data = folder / DATA_FOLDER
        data.mkdir()
        if serialization_format == "pt2":
            _export(pytorch_model, example, data / EXPORTED_FILE, torch)
        else:
            (data / PICKLE_MODULE_FILE).write_text(PICKLE_MODULE_NAME)
            torch.save(pytorch_model, data / MODEL_FILE, pickle_module=pickle_module)
        model.add_flavor(
            PYFUNC_FLAVOR,
            loader_module=LOADER_MODULE,
            data=DATA_FOLDER,
            pickle_module_name=PICKLE_MODULE_NAME,
            code=None,
            config={"device": None},
        )
        model.add_flavor(
            FLAVOR_NAME,
            model_data=DATA_FOLDER,
            pytorch_version=str(torch.__version__),
            code=None,
        )

    predictor = TorchPredictor(pytorch_model, "cpu")

    def predict(example: Any) -> Any:
        return predictor.predict(example, None)

    return write_model(path, files, add_flavors, predict, _model)


def _export(module: Any, example: Any, path: Path, torch: Any) -> None:
    import numpy as np

    if not isinstance(example, np.ndarray):
        raise InvalidParameterValue(
            f"serialization_format='pt2' traces the model on its input example, "
            f"which must be a tensor or a numpy array, got "
            f"{type(example).__name__!r}."
        )
    # AUTO lets the exporter keep the batch dimension free where it can.
    batch = {0: torch.export.Dim.AUTO}
    program = torch.export.export(
        module, (torch.from_numpy(np.array(example)),), dynamic_shapes=(batch,)
    )
    torch.export.save(program, path)


def log_model(
    pytorch_model: Any,
    name: str = "model",
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    code_paths: Sequence[str | Path] | None = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str = "pickle",
    run_id: str | None = None,
) -> ModelInfo:
    """Save a ``torch.nn.Module`` into the artifacts of ``run_id`` (default:
    the active run) under ``name``; the result's ``model_uri`` loads it back."""

    def save(folder: Path, model: Model) -> Model:
        return save_model(
            pytorch_model,
            folder,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            code_paths=code_paths,
            metadata=metadata,
            serialization_format=serialization_format,
            _model=model,
        )

    return log_model_folder(name, run_id, save)


def _pickle_module(data: Path) -> ModuleType:
    info = data / PICKLE_MODULE_FILE
    name = info.read_text().strip() if info.is_file() else PICKLE_MODULE_NAME
    module = _PICKLE_MODULES.get(name)
    if module is None:
        raise InvalidParameterValue(
            f"The model was saved with pickle module {name!r}, which Kiln does "
            f"not read; supported: {', '.join(sorted(_PICKLE_MODULES))}."
        )
    return import_module(module)


def _read_module(data: Path, device: str | None) -> Any:
    torch = _import_torch()
    exported = data / EXPORTED_FILE
    if exported.is_file():
        return _read_exported(exported, device, torch)
    path = data / MODEL_FILE
    if not path.is_file():
        raise InvalidParameterValue(
            f"The model folder {str(data)!r} holds neither {MODEL_FILE!r} nor "
            f"{EXPORTED_FILE!r}; save or log the model again."
        )
    try:
        module = torch.load(
            path,
            map_location=device or "cpu",
            pickle_module=_pickle_module(data),
            # The file holds the whole module, not only tensors.
            weights_only=False,
        )
    except (OSError, EOFError, RuntimeError) as exc:
        raise _corrupt(path, exc) from exc
    module.eval()
    return module


def _read_exported(path: Path, device: str | None, torch: Any) -> Any:
    try:
        program = torch.export.load(path)
    except (OSError, EOFError, RuntimeError, KeyError, ValueError) as exc:
        raise _corrupt(path, exc) from exc
    if device not in (None, "cpu"):
        # An exported graph keeps its tensors on the device it was traced on.
        raise NotImplementedFeature(
            f"The exported model {str(path)!r} loads on the CPU only, not on "
            f"{device!r}; save it in the pickle format to move it."
        )
    return program.module()


def _corrupt(path: Path, exc: BaseException) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"The model file {str(path)!r} is truncated or corrupt ({exc}); save or "
        "log the model again."
    )


def load_model(model_uri: str | Path, device: str | None = None) -> Any:
    """Load the ``torch.nn.Module`` saved at ``model_uri``, in eval mode, on
    ``device`` (default: the CPU). Unpickling runs its author's code."""
    folder = download_model(str(model_uri))
    model = Model.load(folder)
    config = model.flavors.get(FLAVOR_NAME)
    if config is None:
        raise InvalidParameterValue(
            f"The model at {str(model_uri)!r} has flavors {sorted(model.flavors)!r} "
            f"but no {FLAVOR_NAME!r} flavor; load it with kiln.pyfunc.load_model."
        )
    return _read_module(model_file(folder, config.get("model_data")), device)


class TorchPredictor:
    """Runs the module on a DataFrame or numpy array, without gradients."""

    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = device

    def predict(self, model_input: Any, params: dict[str, Any] | None) -> Any:
        import numpy as np
        import pandas as pd

        torch = _import_torch()
        if isinstance(model_input, pd.DataFrame):
            array = model_input.to_numpy(dtype=np.float32)
        elif isinstance(model_input, np.ndarray):
            array = model_input
        else:
            raise InvalidParameterValue(
                f"PyTorch models take a DataFrame or a numpy array, got "
                f"{type(model_input).__name__!r}; convert the input first."
            )
        if not array.flags.writeable:
            # torch shares the array's memory and refuses read-only buffers.
            array = array.copy()
        with torch.no_grad():
            output = self.model(
                torch.from_numpy(array).to(self.device), **(params or {})
            )
        if not isinstance(output, torch.Tensor):
            raise InvalidParameterValue(
                f"The model returned a {type(output).__name__!r}; as a generic "
                "model it must return one tensor."
            )
        result = output.cpu().numpy()
        if isinstance(model_input, pd.DataFrame):
            return pd.DataFrame(result, index=model_input.index)
        return result


def load_pyfunc(
    folder: Path, model: Model, model_config: dict[str, Any] | None
) -> TorchPredictor:
    """The python_function loader for PyTorch models (Kiln's or MLflow's)."""
    pyfunc = model.pyfunc_config
    merged = {**(pyfunc.get("config") or {}), **(model_config or {})}
    device = str(merged.get("device") or "cpu")
    data = model_file(folder, pyfunc.get("data") or DATA_FOLDER)
    return TorchPredictor(_read_module(data, device), device)
