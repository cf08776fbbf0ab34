"""Log a model: save it locally, then upload it where the tracking store says.

As in MLflow 3, a logged model is an entity of its own: ``log_model``
creates it (PENDING) in the run's experiment, uploads the folder to the
model's artifact location (``<experiment root>/models/<model_id>/artifacts``),
marks it READY and records it as an output of the run. The returned
:class:`~kiln.models.model.ModelInfo` carries ``models:/<model_id>``, and
``runs:/<run_id>/<name>`` finds the same model.

A tracking server without the logged-model API (MLflow 2.x, say) answers
with a missing endpoint; the model then goes under the run's own artifacts
at ``<name>``, the older layout, with ``runs:/<run_id>/<name>`` as its URI.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.entities import LoggedModelOutput, LoggedModelStatus
from kiln.errors import KilnError
from kiln.models.model import Model, ModelInfo
from kiln.validation import validate_logged_model_name

if TYPE_CHECKING:
    from kiln.artifacts.base import Repository
    from kiln.tracking.client import KilnClient

__all__ = ["log_model_folder"]

# Error codes meaning "this store has no logged models": fall back to runs.
_NO_LOGGED_MODELS = ("ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED")

Save = Callable[[Path, Model], Model]


def log_model_folder(name: str, run_id: str | None, save: Save) -> ModelInfo:
    """Save with ``save(folder, model)`` and log it for ``run_id`` (the active
    run, or a new one, when None)."""
    from kiln.tracking import fluent
    from kiln.tracking.client import KilnClient

    validate_logged_model_name(name)
    if run_id is None:
        current = fluent.active_run() or fluent.start_run()
        client, run_id = current.client, current.run_id
    else:
        client = KilnClient()
    run = client.get_run(run_id)  # an unknown run fails before any work

    store = client.store
    try:
        logged = store.create_logged_model(
            run.info.experiment_id, name=name, source_run_id=run_id
        )
    except KilnError as exc:
        if exc.error_code not in _NO_LOGGED_MODELS:
            raise
        return _log_to_run_artifacts(client, name, run_id, save)

    try:
        with tempfile.TemporaryDirectory(prefix="kiln-log-model-") as tmp:
            folder = Path(tmp) / "model"
            model = save(
                folder,
                Model(
                    run_id=run_id,
                    model_id=logged.model_id,
                    artifact_path=logged.artifact_location,
                ),
            )
            _repository(client, logged.artifact_location).log_artifacts(folder)
    except BaseException:
        store.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
        raise
    store.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    store.log_outputs(run_id, [LoggedModelOutput(logged.model_id, 0)])
    return model.info(f"models:/{logged.model_id}")


def _repository(client: KilnClient, location: str) -> Repository:
    from kiln.artifacts import get_repository

    # A REST store lends its connection, so mlflow-artifacts:/ locations
    # resolve against the server the model was created on.
    http = getattr(client.store, "http", None)
    return get_repository(location, tracking_uri=client.tracking_uri, http=http)


def _log_to_run_artifacts(
    client: KilnClient, name: str, run_id: str, save: Save
) -> ModelInfo:
    with tempfile.TemporaryDirectory(prefix="kiln-log-model-") as tmp:
        folder = Path(tmp) / "model"
        model = save(folder, Model(run_id=run_id, artifact_path=name))
        client.log_artifacts(run_id, folder, name)
    return model.info(f"runs:/{run_id}/{name}")
