from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn
from kiln.errors import InvalidParameterValue
from kiln.models import ColSpec, Schema


@pytest.fixture
def classifier(frame: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    steps = [("scale", StandardScaler()), ("model", LogisticRegression())]
    return Pipeline(steps).fit(frame, labels)


@pytest.mark.parametrize(
    ("serialization_format", "file_name"),
    [("skops", "model.skops"), ("cloudpickle", "model.pkl"), ("pickle", "model.pkl")],
)
def test_round_trip_in_each_format(
    classifier: Pipeline, frame: pd.DataFrame, serialization_format: str, file_name: str
) -> None:
    kiln_sklearn.save_model(classifier, "m", serialization_format=serialization_format)

    loaded = kiln_sklearn.load_model("m")

    assert (Path("m") / file_name).is_file()
    assert loaded.predict(frame).tolist() == classifier.predict(frame).tolist()
    assert (
        pyfunc.load_model("m").predict(frame).tolist() == loaded.predict(frame).tolist()
    )


def test_flavor_keys_match_mlflow(classifier: Pipeline, frame: pd.DataFrame) -> None:
    kiln_sklearn.save_model(classifier, "m", input_example=frame.head(2))

    written = yaml.safe_load(Path("m/MLmodel").read_text())

    assert written["flavors"]["sklearn"] == {
        "code": None,
        "pickled_model": "model.skops",
        "serialization_format": "skops",
        "sklearn_version": written["flavors"]["sklearn"]["sklearn_version"],
        "skops_trusted_types": None,
    }
    pyfunc_flavor = written["flavors"]["python_function"]
    assert pyfunc_flavor["loader_module"] == "mlflow.sklearn"
    assert pyfunc_flavor["model_path"] == "model.skops"
    assert pyfunc_flavor["predict_fn"] == "predict"
    assert written["signature"]["outputs"] == '[{"type": "long", "required": true}]'
    requirements = Path("m/requirements.txt").read_text()
    assert "scikit-learn==" in requirements and "skops==" in requirements


def test_predict_fn_chooses_the_method(
    classifier: Pipeline, frame: pd.DataFrame
) -> None:
    kiln_sklearn.save_model(
        classifier, "m", pyfunc_predict_fn="predict_proba", input_example=frame
    )

    probabilities = pyfunc.load_model("m").predict(frame)

    assert probabilities.shape == (4, 2)


def test_signature_is_enforced_for_sklearn(
    classifier: Pipeline, frame: pd.DataFrame
) -> None:
    kiln_sklearn.save_model(classifier, "m", input_example=frame)
    model = pyfunc.load_model("m")

    assert model.metadata.signature.inputs == Schema(
        (ColSpec("double", "a"), ColSpec("long", "b"))
    )
    assert model.predict([{"a": 1.0, "b": 1, "ignored": "x"}]).tolist() == [0]
    with pytest.raises(InvalidParameterValue, match="'b'"):
        model.predict({"a": [1.0]})


def _double(values: np.ndarray) -> np.ndarray:
    return values * 2


def test_skops_refuses_untrusted_types_unless_listed(frame: pd.DataFrame) -> None:
    custom = Pipeline(
        [("double", FunctionTransformer(_double)), ("model", LinearRegression())]
    ).fit(frame, [1.0, 2.0, 3.0, 4.0])

    with pytest.raises(InvalidParameterValue, match="skops_trusted_types"):
        kiln_sklearn.save_model(custom, "m")
    assert not Path("m").exists()

    kiln_sklearn.save_model(custom, "c", serialization_format="cloudpickle")
    assert kiln_sklearn.load_model("c").predict(frame).shape == (4,)


def test_log_model_to_the_active_run(classifier: Pipeline, frame: pd.DataFrame) -> None:
    with kiln.start_run() as run:
        info = kiln_sklearn.log_model(classifier, name="clf", input_example=frame)

    assert info.model_uri == f"models:/{info.model_id}"
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/clf"):
        assert kiln_sklearn.load_model(uri).predict(frame).tolist() == [0, 1, 0, 1]


def test_unknown_format_and_method_are_refused(classifier: Pipeline) -> None:
    with pytest.raises(InvalidParameterValue, match="'json'"):
        kiln_sklearn.save_model(classifier, "m", serialization_format="json")
    with pytest.raises(InvalidParameterValue, match="'predict_magic'"):
        kiln_sklearn.save_model(classifier, "m", pyfunc_predict_fn="predict_magic")
