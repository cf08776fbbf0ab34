"""Kiln's records: plain frozen dataclasses shared by every layer.

Nothing here imports the rest of Kiln, so any module may use them.
"""

from kiln.entities.experiment import Experiment, LifecycleStage, ViewType
from kiln.entities.files import FileInfo
from kiln.entities.logged_model import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
)
from kiln.entities.paging import PagedList
from kiln.entities.promotion_rule import PromotionRule
from kiln.entities.registry import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    RegistryHistoryEntry,
    RegistryHistoryKind,
)
from kiln.entities.run import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)

__all__ = [
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelDataset",
    "LoggedModelInput",
    "LoggedModelOrderBy",
    "LoggedModelOutput",
    "LoggedModelParam",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "ModelVersion",
    "ModelVersionStage",
    "ModelVersionStatus",
    "ModelVersionTag",
    "PagedList",
    "Param",
    "PromotionRule",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "RegistryHistoryEntry",
    "RegistryHistoryKind",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
