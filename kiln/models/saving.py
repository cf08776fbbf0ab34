"""Write a model folder: flavor files, example, signature, environment, MLmodel.

Flavors (:mod:`kiln.pyfunc`, :mod:`kiln.sklearn`) hand :func:`write_model` a
callback that writes their own files and records their flavors; the steps
every model shares live here. The folder is built next to its final place
and renamed into it at the end, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.errors import InvalidParameterValue, KilnError, ResourceAlreadyExists
from kiln.models.enforcement import enforce_input
from kiln.models.environment import resolve_requirements, write_environment
from kiln.models.input_example import save_input_example
from kiln.models.model import PYFUNC_FLAVOR, Model
from kiln.models.schema import ModelSignature
from kiln.models.signature import infer_output_schema, infer_schema

__all__ = ["ModelFiles", "write_model"]

CODE_FOLDER = "code"

_log = logging.getLogger(__name__)


@dataclass
class ModelFiles:
    """What the caller of ``save_model`` asked for besides the model itself."""

    signature: ModelSignature | None = None
    input_example: Any = None
    pip_requirements: Sequence[str] | None = None
    extra_pip_requirements: Sequence[str] | None = None
    code_paths: Sequence[str | Path] | None = None
    metadata: dict[str, Any] | None = None
    distributions: Iterable[str] = field(default_factory=list)


def write_model(
    path: str | Path,
    files: ModelFiles,
    add_flavors: Callable[[Path, Model], None],
    predict: Callable[[Any], Any] | None = None,
    model: Model | None = None,
) -> Model:
    """Build the model folder at ``path`` and return its ``MLmodel``.

    ``add_flavors`` writes the flavor's files into the folder and records its
    flavors; ``predict`` (optional) runs the model on the input example so the
    signature gets outputs too. Raises ResourceAlreadyExists when ``path`` is a
    non-empty folder.
    """
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ResourceAlreadyExists(
            f"Path {str(target)!r} already exists; save the model to a new folder."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    model = model or Model()
    model.metadata = files.metadata
    folder = Path(tempfile.mkdtemp(prefix=".kiln-model-", dir=target.parent))
    try:
        add_flavors(folder, model)
        _write_common(folder, model, files, predict)
        model.save(folder)
        if target.exists():
            target.rmdir()
        folder.rename(target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return model


def _write_common(
    folder: Path, model: Model, files: ModelFiles, predict: Callable[[Any], Any] | None
) -> None:
    pyfunc = model.flavors.get(PYFUNC_FLAVOR)
    if files.code_paths:
        _copy_code(folder, files.code_paths)
        for config in model.flavors.values():
            config["code"] = CODE_FOLDER
    if files.input_example is not None:
        model.saved_input_example_info = save_input_example(folder, files.input_example)
    model.signature = files.signature or _infer(files.input_example, predict)
    requirements = resolve_requirements(
        files.distributions, files.pip_requirements, files.extra_pip_requirements
    )
    env = write_environment(folder, requirements)
    if pyfunc is not None:
        pyfunc["env"] = env
        pyfunc["python_version"] = platform.python_version()


def _copy_code(folder: Path, code_paths: Sequence[str | Path]) -> None:
    destination = folder / CODE_FOLDER
    destination.mkdir()
    for source in map(Path, code_paths):
        if not source.exists():
            raise InvalidParameterValue(
                f"Code path {str(source)!r} does not exist; give existing files "
                "or folders."
            )
        if source.is_dir():
            shutil.copytree(source, destination / source.name)
        else:
            shutil.copyfile(source, destination / source.name)


def _infer(example: Any, predict: Callable[[Any], Any] | None) -> ModelSignature | None:
    if example is None:
        return None
    inputs = infer_schema(example)
    if predict is None:
        return ModelSignature(inputs)
    try:
        output = predict(enforce_input(example, None))
    # A model that cannot run on its own example still saves, without outputs.
    except (KilnError, ValueError, TypeError, KeyError, AttributeError) as exc:
        _log.warning(
            "Model output not inferred: predicting the example failed: %s", exc
        )
        return ModelSignature(inputs)
    return ModelSignature(inputs, infer_output_schema(output))
