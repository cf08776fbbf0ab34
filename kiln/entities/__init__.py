"""Kiln's records: plain frozen dataclasses shared by every layer.

Nothing here imports the rest of Kiln, so any module may use them.
"""

from kiln.entities.experiment import Experiment, LifecycleStage, ViewType
from kiln.entities.files import FileInfo
from kiln.entities.paging import PagedList
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
    "LoggedModelInput",
    "LoggedModelOutput",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]
