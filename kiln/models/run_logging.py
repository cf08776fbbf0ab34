"""Log a model to a run: save it locally, then upload the folder as artifacts.

The model lands under the run's artifacts at ``name``, and the returned
:class:`~kiln.models.model.ModelInfo` carries ``runs:/<run_id>/<name>``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from kiln.artifacts.paths import normalize_artifact_path
from kiln.errors import InvalidParameterValue
from kiln.models.model import Model, ModelInfo

__all__ = ["log_model_folder"]


def log_model_folder(
    name: str, run_id: str | None, save: Callable[[Path, Model], Model]
) -> ModelInfo:
    """Save with ``save(folder, model)`` and upload to the run (the active run,
    or a new one, when ``run_id`` is None)."""
    from kiln.tracking import fluent
    from kiln.tracking.client import KilnClient

    artifact_path = normalize_artifact_path(name)
    if not artifact_path:
        raise InvalidParameterValue(
            f"A model name must be a non-empty relative path, got {name!r}."
        )
    if run_id is None:
        current = fluent.active_run() or fluent.start_run()
        client, run_id = current.client, current.run_id
    else:
        client = KilnClient()
        client.get_run(run_id)  # an unknown run fails before any work

    with tempfile.TemporaryDirectory(prefix="kiln-log-model-") as tmp:
        folder = Path(tmp) / "model"
        model = save(folder, Model(run_id=run_id, artifact_path=artifact_path))
        client.log_artifacts(run_id, folder, artifact_path)
    return model.info(f"runs:/{run_id}/{artifact_path}")
