from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import kiln
from kiln import pyfunc
from kiln.entities import LoggedModelStatus
from kiln.errors import InvalidParameterValue, KilnError
from kiln.models import (
    ColSpec,
    Model,
    ModelSignature,
    ParamSchema,
    ParamSpec,
    Schema,
    uris,
)

SAMPLE_CODE = Path(__file__).with_name("sample_code")


class Scaler(pyfunc.PythonModel):
    """Multiplies column 'a' by a factor read from an artifact file."""

    def load_context(self, context: pyfunc.PythonModelContext) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())

    def predict(
        self,
        context: pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.Series:
        offset = (params or {}).get("offset", 0.0)
        return model_input["a"] * self.factor + offset


@pytest.fixture
def factor_file(tmp_path: Path) -> str:
    path = tmp_path / "factor.txt"
    path.write_text("3")
    return str(path)


def test_custom_model_round_trip(frame: pd.DataFrame, factor_file: str) -> None:
    pyfunc.save_model(
        "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        input_example=frame.head(2),
        metadata={"owner": "ml-team"},
    )

    model = pyfunc.load_model("m")

    assert model.predict(frame).tolist() == [3.0, 6.0, 9.0, 12.0]
    assert model.predict([{"a": 1.0, "b": 1}]).tolist() == [3.0]
    assert model.predict({"a": [2.0], "b": [0]}).tolist() == [6.0]
    assert model.metadata.metadata == {"owner": "ml-team"}
    assert isinstance(model.unwrap_python_model(), Scaler)


def test_model_folder_has_mlflow_layout(frame: pd.DataFrame, factor_file: str) -> None:
    pyfunc.save_model(
        "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        input_example=frame,
    )

    written = yaml.safe_load(Path("m/MLmodel").read_text())
    flavor = written["flavors"]["python_function"]

    assert flavor["loader_module"] == "mlflow.pyfunc.model"
    assert flavor["python_model"] == "python_model.pkl"
    assert flavor["artifacts"]["factor"]["path"] == "artifacts/factor.txt"
    assert flavor["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert written["saved_input_example_info"]["type"] == "dataframe"
    assert len(written["utc_time_created"]) == len("2024-01-01 00:00:00.000000")
    assert written["kiln_version"] == kiln.__version__
    assert written["model_size_bytes"] > 0
    assert sorted(p.name for p in Path("m").iterdir()) == [
        "MLmodel",
        "artifacts",
        "conda.yaml",
        "input_example.json",
        "python_env.yaml",
        "python_model.pkl",
        "requirements.txt",
        "serving_input_example.json",
    ]


def test_signature_is_inferred_and_enforced(
    frame: pd.DataFrame, factor_file: str
) -> None:
    pyfunc.save_model(
        "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        input_example=frame,
    )
    model = pyfunc.load_model("m")

    assert model.metadata.signature == ModelSignature(
        Schema((ColSpec("double", "a"), ColSpec("long", "b"))),
        Schema((ColSpec("double", "a"),)),
    )
    with pytest.raises(InvalidParameterValue, match="'b' \\(long\\)"):
        model.predict({"a": [1.0]})


def test_params_reach_predict_with_defaults(
    frame: pd.DataFrame, factor_file: str
) -> None:
    signature = ModelSignature(
        Schema((ColSpec("double", "a"),)),
        params=ParamSchema((ParamSpec("offset", "double", 1.0),)),
    )
    pyfunc.save_model(
        "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        signature=signature,
    )
    model = pyfunc.load_model("m")

    assert model.predict(frame).tolist() == [4.0, 7.0, 10.0, 13.0]
    assert model.predict(frame, params={"offset": 0}).tolist()[0] == 3.0
    with pytest.raises(InvalidParameterValue, match="Unknown param"):
        model.predict(frame, params={"scale": 2})


class UsesCode(pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        from scaling import scale  # type: ignore[import-not-found]

        return [scale(v, 10) for v in model_input["a"]]


def test_code_paths_are_importable_when_loading(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    pyfunc.save_model(
        "m", python_model=UsesCode(), code_paths=[SAMPLE_CODE / "scaling.py"]
    )
    sys.modules.pop("scaling", None)

    model = pyfunc.load_model("m")

    assert (Path("m") / "code" / "scaling.py").is_file()
    assert model.predict(frame) == [10.0, 20.0, 30.0, 40.0]


def test_requirements_are_pinned_and_overridable(factor_file: str) -> None:
    pyfunc.save_model(
        "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        extra_pip_requirements=["cloudpickle>=3", "httpx"],
    )
    pyfunc.save_model(
        "n",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        pip_requirements=["only-this==1.0"],
    )

    lines = Path("m/requirements.txt").read_text().splitlines()
    env = yaml.safe_load(Path("m/python_env.yaml").read_text())
    conda = yaml.safe_load(Path("m/conda.yaml").read_text())

    assert lines[0] == f"kiln-ml=={kiln.__version__}"
    assert "cloudpickle>=3" in lines and not any(
        line.startswith("cloudpickle==") for line in lines
    )
    assert any(line.startswith("pandas==") for line in lines)  # imported by this file
    assert lines[-1] == "httpx"
    assert env["dependencies"] == ["-r requirements.txt"]
    assert conda["dependencies"][-1] == {"pip": lines}
    assert Path("n/requirements.txt").read_text() == "only-this==1.0\n"


def test_log_model_creates_a_logged_model_of_the_active_run(
    frame: pd.DataFrame, factor_file: str
) -> None:
    with kiln.start_run() as run:
        info = pyfunc.log_model(
            python_model=Scaler(),
            name="scaler",
            artifacts={"factor": factor_file},
            input_example=frame,
        )

    client = kiln.KilnClient()
    logged = client.store.get_logged_model(str(info.model_id))
    stored_run = client.get_run(run.info.run_id)
    assert info.model_uri == f"models:/{info.model_id}"
    assert str(info.model_id).startswith("m-")
    assert info.run_id == run.info.run_id
    assert info.artifact_path == logged.artifact_location
    assert (logged.name, logged.status) == ("scaler", LoggedModelStatus.READY)
    assert logged.source_run_id == run.info.run_id
    assert [o.model_id for o in stored_run.outputs.model_outputs] == [info.model_id]
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/scaler"):
        assert pyfunc.load_model(uri).predict(frame).tolist()[0] == 3.0
    stored = pyfunc.get_model_info(info.model_uri)
    assert stored.model_id == info.model_id
    assert stored.model_uuid == info.model_uuid
    assert stored.signature == info.signature


def test_log_model_to_a_given_run(frame: pd.DataFrame, factor_file: str) -> None:
    client = kiln.KilnClient()
    run_id = client.create_run(client.create_experiment("e")).info.run_id

    info = pyfunc.log_model(
        python_model=Scaler(), artifacts={"factor": factor_file}, run_id=run_id
    )

    assert kiln.active_run() is None
    assert info.run_id == run_id
    assert pyfunc.load_model(f"runs:/{run_id}/model").predict(frame).tolist()[1] == 6.0


def test_without_logged_models_the_model_goes_under_the_run(
    frame: pd.DataFrame, factor_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = kiln.KilnClient()
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    missing = KilnError("The tracking server has no endpoint (HTTP 404).")
    missing.error_code = "ENDPOINT_NOT_FOUND"

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise missing

    # An MLflow 2.x server answers the logged-model endpoints with 404.
    monkeypatch.setattr(type(client.store), "create_logged_model", refuse)
    info = pyfunc.log_model(
        python_model=Scaler(), artifacts={"factor": factor_file}, run_id=run_id
    )

    assert info.model_uri == f"runs:/{run_id}/model"
    assert info.model_id is None
    assert [f.path for f in client.list_artifacts(run_id)] == ["model"]
    assert pyfunc.load_model(info.model_uri).predict(frame).tolist()[0] == 3.0


def test_remote_models_download_once(
    frame: pd.DataFrame, factor_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyfunc.save_model(
        "store/m", python_model=Scaler(), artifacts={"factor": factor_file}
    )
    calls: list[str] = []
    real = uris._download

    def counting(location: str, *args: Any) -> str:
        calls.append(location)
        return real(f"file://{Path('store').absolute()}/m", *args)

    # Stands in for a remote store: any scheme not local goes through _download.
    monkeypatch.setattr(uris, "_download", counting)

    first = pyfunc.load_model("s3://bucket/models/m")
    second = pyfunc.load_model("s3://bucket/models/m")

    assert calls == ["s3://bucket/models/m"]
    assert first.folder == second.folder
    assert first.folder.is_relative_to(Path("model-cache").absolute())
    assert second.predict(frame).tolist()[0] == 3.0


def test_model_file_keeps_keys_it_does_not_know(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(
        yaml.safe_dump(
            {"flavors": {}, "mlflow_version": "3.17.2", "prompts": None, "run_id": "r"}
        )
    )

    model = Model.load(tmp_path)
    model.save(tmp_path)

    again = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert again["mlflow_version"] == "3.17.2"
    assert again["run_id"] == "r"
    assert "prompts" in again


def test_tensor_example_is_saved_as_inputs(tmp_path: Path) -> None:
    class Total(pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input.sum(axis=1)

    pyfunc.save_model("m", python_model=Total(), input_example=np.ones((2, 3)))
    model = pyfunc.load_model("m")

    assert model.metadata.saved_input_example_info is not None
    assert model.metadata.saved_input_example_info["type"] == "ndarray"
    assert model.predict(np.ones((1, 3), dtype=np.float32)).tolist() == [3.0]
