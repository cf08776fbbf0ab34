"""Logged models: a model saved by a run (or on its own), with its own artifacts.

A logged model belongs to an experiment and keeps its files under
``<experiment artifact location>/models/<model_id>/artifacts``. It starts
PENDING while its files upload and is then finalized READY (or
UPLOAD_FAILED). Metrics reach a model by being logged with its ``model_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiln.entities.run import Metric


class LoggedModelStatus:
    """The states of a logged model's upload."""

    PENDING = "PENDING"
    READY = "READY"
    UPLOAD_FAILED = "UPLOAD_FAILED"

    ALL = (PENDING, READY, UPLOAD_FAILED)


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A logged model's attributes and what was logged to it.

    ``model_id`` is ``m-`` followed by 32 hex digits; times are epoch
    milliseconds. ``metrics`` holds every point logged with this model's id.
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = LoggedModelStatus.PENDING
    status_message: str | None = None
    creator_id: int | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    lifecycle_stage: str = "active"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()

    @property
    def artifact_uri(self) -> str:
        """MLflow's wire name for ``artifact_location``."""
        return self.artifact_location


@dataclass(frozen=True, slots=True)
class LoggedModelTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelParam:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class LoggedModelDataset:
    """Limits a logged-model search's metric comparisons to one dataset."""

    dataset_name: str
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModelOrderBy:
    """One sort key of a logged-model search, as MLflow's client sends it.

    ``field_name`` is an attribute (``creation_timestamp``, ``name``…) or
    ``metrics.<key>``; a metric may be narrowed to the points logged on one
    dataset.
    """

    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None
