"""The run tag listing the models a 2.x client logged to a run.

Each ``runs/log-model`` call appends the model's MLmodel (as a JSON object)
to the JSON list in the run's ``mlflow.log-model.history`` tag, MLflow's
name and format. Stores append in one transaction (see
:meth:`kiln.store.base.TrackingStore.record_logged_model`), so models
logged to one run at the same time all stay in the list.
"""

from __future__ import annotations

import json

from kiln.errors import InvalidParameterValue, InvalidState

__all__ = ["MODEL_HISTORY_TAG", "appended_history", "parse_model_json"]

MODEL_HISTORY_TAG = "mlflow.log-model.history"
_REQUIRED_FIELDS = frozenset({"artifact_path", "flavors", "run_id", "utc_time_created"})


def parse_model_json(text: str) -> dict[str, object]:
    """The MLmodel object in ``text``; InvalidParameterValue if it is not one."""
    try:
        model = json.loads(text)
    except ValueError:
        model = None
    if not isinstance(model, dict):
        raise InvalidParameterValue(
            f"Invalid model_json {text[:80]!r}; expected a JSON object."
        )
    missing = sorted(_REQUIRED_FIELDS - model.keys())
    if missing:
        raise InvalidParameterValue(
            f"The model_json lacks the fields {missing!r}; an MLmodel always has "
            "artifact_path, flavors, run_id and utc_time_created."
        )
    return model


def appended_history(current: str | None, model: dict[str, object]) -> str:
    """The tag value ``current`` (None: no tag yet) with ``model`` appended.

    Raises :class:`~kiln.errors.InvalidState` when the tag holds something
    other than a JSON list.
    """
    history: object = []
    if current:
        try:
            history = json.loads(current)
        except ValueError:
            history = None
    if not isinstance(history, list):
        raise InvalidState(
            f"The run's {MODEL_HISTORY_TAG!r} tag is not a JSON list; delete or fix "
            "the tag before logging another model."
        )
    history.append(model)
    return json.dumps(history, separators=(",", ":"))
