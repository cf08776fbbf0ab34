"""Datasets built from in-memory data, ready for :func:`kiln.log_input`.

A dataset knows its name, a digest of its content, where it came from, its
schema and a small profile (row and element counts), and turns into the
:class:`kiln.entities.Dataset` record a run stores. The data itself is kept
on the object for the program's use; it is never uploaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.data import digests, schemas
from kiln.data.sources import describe_source
from kiln.entities import Dataset
from kiln.errors import InvalidParameterValue

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["DEFAULT_NAME", "NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]

DEFAULT_NAME = "dataset"


class _TrackedDataset:
    """What every dataset offers: identity, origin, schema and profile."""

    def __init__(
        self,
        name: str | None,
        digest: str,
        source: str | Path | None,
        schema: str,
        profile: str,
    ) -> None:
        self.name = DEFAULT_NAME if name is None else name
        self.digest = digest
        self.source_type, self.source = describe_source(source)
        self.schema = schema
        self.profile = profile

    def to_entity(self) -> Dataset:
        """The record a run stores for this dataset."""
        return Dataset(
            name=self.name,
            digest=self.digest,
            source_type=self.source_type,
            source=self.source,
            schema=self.schema,
            profile=self.profile,
        )

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} name={self.name!r} digest={self.digest!r} "
            f"source_type={self.source_type!r}>"
        )


class PandasDataset(_TrackedDataset):
    """A dataset over a pandas DataFrame; ``targets`` names the label column."""

    def __init__(
        self,
        df: pd.DataFrame,
        source: str | Path | None = None,
        name: str | None = None,
        targets: str | None = None,
    ) -> None:
        if targets is not None and targets not in df.columns:
            raise InvalidParameterValue(
                f"The targets column {targets!r} is not in the DataFrame; expected "
                f"one of {[str(c) for c in df.columns]!r}."
            )
        profile = {"num_rows": len(df), "num_elements": int(df.size)}
        super().__init__(
            name,
            digests.digest_frame(df),
            source,
            schemas.frame_schema(df),
            json.dumps(profile),
        )
        self.df = df
        self.targets = targets


class NumpyDataset(_TrackedDataset):
    """A dataset over a numpy array of features and an optional target array."""

    def __init__(
        self,
        features: np.ndarray,
        source: str | Path | None = None,
        name: str | None = None,
        targets: np.ndarray | None = None,
    ) -> None:
        import numpy as np

        features = np.asarray(features)
        targets = None if targets is None else np.asarray(targets)
        super().__init__(
            name,
            digests.digest_array(features, targets),
            source,
            schemas.tensor_schema(features, targets),
            json.dumps(_array_profile(features, targets)),
        )
        self.features = features
        self.targets = targets


def _array_profile(features: np.ndarray, targets: np.ndarray | None) -> dict[str, Any]:
    # Row and element counts as for tables, plus MLflow's per-array figures.
    profile: dict[str, Any] = {
        "num_rows": int(features.shape[0]) if features.ndim else 1,
        "num_elements": int(features.size),
    }
    for label, array in (("features", features), ("targets", targets)):
        if array is not None:
            profile[f"{label}_shape"] = list(array.shape)
            profile[f"{label}_size"] = int(array.size)
            profile[f"{label}_nbytes"] = int(array.nbytes)
    return profile


def from_pandas(
    df: pd.DataFrame,
    source: str | Path | None = None,
    name: str | None = None,
    targets: str | None = None,
) -> PandasDataset:
    """Describe a DataFrame as a dataset to log with :func:`kiln.log_input`.

    ``source`` is where the data was read from (a path or URI); without it
    the source is the running program. ``targets`` names the label column.
    """
    return PandasDataset(df, source=source, name=name, targets=targets)


def from_numpy(
    features: np.ndarray,
    source: str | Path | None = None,
    name: str | None = None,
    targets: np.ndarray | None = None,
) -> NumpyDataset:
    """Describe numpy features (and targets) as a dataset to log."""
    return NumpyDataset(features, source=source, name=name, targets=targets)
