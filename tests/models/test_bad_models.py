from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn
from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    NotImplementedFeature,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)


class Echo(pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


@pytest.fixture
def saved_sklearn(frame: pd.DataFrame, labels: Any) -> Path:
    kiln_sklearn.save_model(LogisticRegression().fit(frame, labels), "sk")
    return Path("sk")


def _rewrite_mlmodel(folder: Path, change: Any) -> None:
    data = yaml.safe_load((folder / "MLmodel").read_text())
    change(data)
    (folder / "MLmodel").write_text(yaml.safe_dump(data))


def test_folder_without_mlmodel(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(ResourceDoesNotExist, match="No MLmodel file in"):
        pyfunc.load_model(tmp_path / "empty")


def test_path_naming_nothing() -> None:
    with pytest.raises(ResourceDoesNotExist, match="'no/such/model'"):
        pyfunc.load_model("no/such/model")


def test_run_uri_naming_nothing() -> None:
    with kiln.start_run() as run:
        pass

    with pytest.raises(ResourceDoesNotExist):
        pyfunc.load_model(f"runs:/{run.info.run_id}/missing")
    with pytest.raises(InvalidParameterValue, match="runs:/<run_id>/<artifact_path>"):
        pyfunc.load_model(f"runs:/{run.info.run_id}")


@pytest.mark.parametrize("uri", ["models:/churn/1", "models:/churn/Production"])
def test_unknown_registered_model(uri: str) -> None:
    with pytest.raises(ResourceDoesNotExist, match="'churn'"):
        pyfunc.load_model(uri)


def test_other_registries_are_not_supported() -> None:
    with pytest.raises(NotImplementedFeature, match="another registry"):
        pyfunc.load_model("models://other@databricks/churn/1")


def test_unknown_logged_model_id() -> None:
    with pytest.raises(ResourceDoesNotExist, match="m-0123"):
        pyfunc.load_model("models:/m-0123456789abcdef0123456789abcdef")


def test_unknown_loader_module(saved_sklearn: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["flavors"]["python_function"]["loader_module"] = "mlflow.xgboost"

    _rewrite_mlmodel(saved_sklearn, change)

    with pytest.raises(NotImplementedFeature, match=r"'mlflow\.xgboost'"):
        pyfunc.load_model(saved_sklearn)


def test_model_without_pyfunc_flavor(saved_sklearn: Path) -> None:
    _rewrite_mlmodel(saved_sklearn, lambda data: data["flavors"].pop("python_function"))

    with pytest.raises(InvalidParameterValue, match="no 'python_function' flavor"):
        pyfunc.load_model(saved_sklearn)
    estimator = kiln_sklearn.load_model(saved_sklearn)
    assert estimator.predict(pd.DataFrame({"a": [1.0], "b": [1]})).tolist() == [0]


def test_sklearn_load_of_a_custom_model(tmp_path: Path) -> None:
    pyfunc.save_model("m", python_model=Echo())

    with pytest.raises(InvalidParameterValue, match="no 'sklearn' flavor"):
        kiln_sklearn.load_model("m")


def test_missing_library(saved_sklearn: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if sklearn were absent.
    monkeypatch.setitem(sys.modules, "sklearn", None)

    with pytest.raises(KilnError, match=r"pip install 'kiln-ml\[sklearn\]'"):
        pyfunc.load_model(saved_sklearn)


@pytest.mark.parametrize("file_name", ["model.skops"])
def test_truncated_sklearn_file(saved_sklearn: Path, file_name: str) -> None:
    path = saved_sklearn / file_name
    path.write_bytes(path.read_bytes()[:100])

    with pytest.raises(InvalidParameterValue, match="truncated or corrupt"):
        pyfunc.load_model(saved_sklearn)


def test_truncated_pickle(frame: pd.DataFrame, labels: Any) -> None:
    kiln_sklearn.save_model(
        LogisticRegression().fit(frame, labels), "p", serialization_format="pickle"
    )
    pyfunc.save_model("c", python_model=Echo())
    for path in (Path("p/model.pkl"), Path("c/python_model.pkl")):
        path.write_bytes(path.read_bytes()[:20])

    with pytest.raises(InvalidParameterValue, match="truncated or corrupt"):
        kiln_sklearn.load_model("p")
    with pytest.raises(InvalidParameterValue, match="truncated or corrupt"):
        pyfunc.load_model("c")


def test_broken_mlmodel_yaml(saved_sklearn: Path) -> None:
    (saved_sklearn / "MLmodel").write_text("flavors: [unclosed")

    with pytest.raises(InvalidParameterValue, match="not valid YAML"):
        pyfunc.load_model(saved_sklearn)


def test_pickle_needing_an_absent_module(monkeypatch: pytest.MonkeyPatch) -> None:
    pyfunc.save_model("m", python_model=Echo())
    # The model's class lives in this test module; pretend it is gone.
    monkeypatch.setitem(sys.modules, __name__, None)

    with pytest.raises(KilnError, match=f"module {__name__!r}"):
        pyfunc.load_model("m")


def test_saving_over_an_existing_model_is_refused() -> None:
    pyfunc.save_model("m", python_model=Echo())

    with pytest.raises(ResourceAlreadyExists, match="'m'"):
        pyfunc.save_model("m", python_model=Echo())


def test_failed_save_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="'weights'"):
        pyfunc.save_model(
            "m", python_model=Echo(), artifacts={"weights": str(tmp_path / "nope.bin")}
        )

    assert not Path("m").exists()
    assert not [p for p in Path().iterdir() if p.name.startswith(".kiln-model-")]


def test_python_model_must_be_a_python_model() -> None:
    with pytest.raises(InvalidParameterValue, match="'function'"):
        pyfunc.save_model("m", python_model=lambda x: x)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["../outside.skops", "/etc/passwd"])
def test_mlmodel_naming_a_file_outside_the_folder(
    saved_sklearn: Path, name: str
) -> None:
    def change(data: dict[str, Any]) -> None:
        data["flavors"]["python_function"]["model_path"] = name
        data["flavors"]["sklearn"]["pickled_model"] = name

    _rewrite_mlmodel(saved_sklearn, change)

    with pytest.raises(
        InvalidParameterValue, match="not a relative path inside the model folder"
    ):
        pyfunc.load_model(saved_sklearn)
    with pytest.raises(
        InvalidParameterValue, match="not a relative path inside the model folder"
    ):
        kiln_sklearn.load_model(saved_sklearn)


def test_failed_load_leaves_the_import_path_alone(tmp_path: Path) -> None:
    helper = tmp_path / "helper.py"
    helper.write_text("VALUE = 1\n")
    pyfunc.save_model("m", python_model=Echo(), code_paths=[helper])
    Path("m/python_model.pkl").write_bytes(b"\x80\x05")
    before = list(sys.path)

    with pytest.raises(InvalidParameterValue, match="truncated or corrupt"):
        pyfunc.load_model("m")

    assert sys.path == before
