"""The model registry: named models, their numbered versions, stages and aliases.

A registered model groups versions of one model under a name. Each version
points at the files of a run or logged model (``source``) and carries a
deprecated stage (``None``, ``Staging``, ``Production``, ``Archived``) and any
number of aliases (``champion`` → version 3), which replace stages. Every
move of an alias and every change of stage is kept in the registry's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ModelVersionStage:
    """The deprecated lifecycle stages of a model version."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    ALL = (NONE, STAGING, PRODUCTION, ARCHIVED)
    # Only a move into these may archive the versions already there.
    ARCHIVING = (STAGING, PRODUCTION)

    @classmethod
    def canonical(cls, stage: str) -> str | None:
        """The stage's canonical spelling (matched case-insensitively), or None."""
        for known in cls.ALL:
            if known.lower() == stage.lower():
                return known
        return None


class ModelVersionStatus:
    """The registration states of a model version."""

    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


@dataclass(frozen=True, slots=True)
class RegisteredModelTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ModelVersionTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RegisteredModelAlias:
    """An alias of a registered model and the version it points at."""

    alias: str
    version: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model; ``version`` is a string of an int."""

    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    source: str
    user_id: str | None = None
    current_stage: str = ModelVersionStage.NONE
    description: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    model_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A registered model; ``latest_versions`` holds the newest version of
    each stage that has one."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str | None = None
    description: str | None = None
    latest_versions: tuple[ModelVersion, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[RegisteredModelAlias, ...] = ()


class RegistryHistoryKind:
    """What a registry history entry records: an alias move or a stage change."""

    ALIAS = "alias"
    STAGE = "stage"

    ALL = (ALIAS, STAGE)


@dataclass(frozen=True, slots=True)
class RegistryHistoryEntry:
    """One recorded move in a model's registry history.

    An ``alias`` entry says ``alias`` went from ``previous_version`` to
    ``version`` (either is None when the alias was created or removed); a
    ``stage`` entry says ``version`` went from ``previous_stage`` to ``stage``.
    ``user_id`` is who made the move, when known, and ``reason`` why, when
    given; ``timestamp`` is in milliseconds since the epoch. ``id`` grows with
    every entry, so it orders entries made in the same millisecond.
    """

    id: int
    name: str
    kind: str
    timestamp: int
    alias: str | None = None
    version: str | None = None
    previous_version: str | None = None
    stage: str | None = None
    previous_stage: str | None = None
    user_id: str | None = None
    reason: str | None = None
