"""The model both sides of the model benchmarks save, load and call.

A LogisticRegression on four float features, fitted on fixed data, saved
with an input example (so each library records a signature and checks
every input against it) in the library's default format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FEATURES = ["f0", "f1", "f2", "f3"]


def training_data() -> tuple[Any, Any]:
    """Deterministic rows and labels: the label is whether f0 + f1 > f2."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    values = rng.normal(size=(200, len(FEATURES)))
    frame = pd.DataFrame(values, columns=FEATURES)
    labels = (values[:, 0] + values[:, 1] > values[:, 2]).astype(int)
    return frame, labels


def one_row() -> Any:
    """The single-row DataFrame every predict call gets."""
    import pandas as pd

    return pd.DataFrame([[0.1, -0.4, 0.3, 1.2]], columns=FEATURES)


def fitted_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    frame, labels = training_data()
    return LogisticRegression().fit(frame, labels)


def save_with_kiln(folder: Path) -> tuple[Path, Any]:
    """The model saved by Kiln into ``folder/model``, and the estimator."""
    from kiln import sklearn as kiln_sklearn

    estimator = fitted_estimator()
    path = folder / "model"
    kiln_sklearn.save_model(estimator, path, input_example=training_data()[0][:3])
    return path, estimator


def save_with_mlflow(folder: Path) -> tuple[Path, Any]:
    """The model saved by MLflow into ``folder/model``, and the estimator."""
    import mlflow.sklearn

    estimator = fitted_estimator()
    path = folder / "model"
    mlflow.sklearn.save_model(estimator, path, input_example=training_data()[0][:3])
    return path, estimator
