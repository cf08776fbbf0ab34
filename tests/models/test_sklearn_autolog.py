from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn


@pytest.fixture(autouse=True)
def autologging() -> Iterator[None]:
    kiln_sklearn.autolog()
    yield
    kiln_sklearn.autolog(disable=True)


@pytest.fixture
def wide() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["x", "y", "z"])
    return X, (X["x"] > 0).to_numpy().astype(int)


def test_fit_logs_params_metrics_model_and_tag(
    wide: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = wide
    with kiln.start_run() as run:
        LogisticRegression(C=0.5).fit(X, y)

    stored = kiln.get_run(run.info.run_id)
    assert stored.data.tags["mlflow.autologging"] == "sklearn"
    assert stored.data.params["C"] == "0.5"
    assert stored.data.metrics["training_accuracy_score"] > 0.8
    assert "training_f1_score" in stored.data.metrics
    model = pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert model.metadata.signature is not None
    assert model.metadata.saved_input_example_info is not None
    assert model.predict(X.head(3)).shape == (3,)


def test_pipeline_logs_once_with_nested_params(
    wide: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = wide
    with kiln.start_run() as run:
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)

    stored = kiln.get_run(run.info.run_id)
    assert stored.data.params["clf__C"] == "1.0"
    # Only the pipeline logs a model; its steps' fits log nothing.
    assert len(stored.outputs.model_outputs) == 1


def test_search_logs_best_params_and_score(
    wide: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = wide
    with kiln.start_run() as run:
        GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X, y)

    stored = kiln.get_run(run.info.run_id)
    assert stored.data.params["best_C"] in ("0.1", "1.0")
    assert 0.0 <= stored.data.metrics["best_cv_score"] <= 1.0
    models = {
        logged.name: logged
        for logged in (
            kiln.KilnClient().store.get_logged_model(output.model_id)
            for output in stored.outputs.model_outputs
        )
    }
    assert sorted(models) == ["best_estimator", "model"]
    # The search's own splitter and scorer are trusted, so skops stores it.
    search = pyfunc.get_model_info(f"models:/{models['model'].model_id}")
    assert search.flavors["sklearn"]["serialization_format"] == "skops"
    best = kiln_sklearn.load_model(f"runs:/{run.info.run_id}/best_estimator")
    assert best.predict(X.head(2)).shape == (2,)


def _shift(values: np.ndarray) -> np.ndarray:
    return values + 1


def test_user_code_falls_back_to_cloudpickle(
    wide: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, y = wide
    with kiln.start_run() as run:
        Pipeline(
            [("shift", FunctionTransformer(_shift)), ("clf", LogisticRegression())]
        ).fit(X, y)

    model = pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert model.metadata.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    assert model.predict(X.head(2)).shape == (2,)


def test_fit_without_a_run_starts_and_ends_one(
    wide: tuple[pd.DataFrame, np.ndarray],
) -> None:
    X, _ = wide

    LinearRegression().fit(X, X["z"])

    assert kiln.active_run() is None
    last = kiln.last_active_run()
    assert last is not None
    assert last.info.status == "FINISHED"
    assert "training_r2_score" in last.data.metrics


def test_disable_restores_plain_fit(wide: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = wide
    kiln_sklearn.autolog(disable=True)

    LogisticRegression().fit(X, y)

    assert kiln.last_active_run() is None
