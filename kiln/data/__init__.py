"""Datasets from in-memory data, to record as run inputs::

    dataset = kiln.data.from_pandas(df, source="data/train.csv", targets="label")
    kiln.log_input(dataset, context="training")

pandas and numpy are imported only when a dataset is built.
"""

from __future__ import annotations

from kiln.data.datasets import NumpyDataset, PandasDataset, from_numpy, from_pandas

__all__ = ["NumpyDataset", "PandasDataset", "from_numpy", "from_pandas"]
