from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import kiln
from kiln import pyfunc
from kiln import pytorch as kiln_pytorch
from kiln.errors import InvalidParameterValue, KilnError
from kiln.models import ModelSignature, Schema, TensorSpec


class Scale(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor([2.0, -1.0, 0.5]))

    def forward(self, x: torch.Tensor, offset: float = 0.0) -> torch.Tensor:
        return (x * self.weight).sum(dim=1, keepdim=True) + offset


@pytest.fixture
def linear() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 2))


@pytest.fixture
def rows() -> np.ndarray:
    return np.arange(6, dtype=np.float32).reshape(2, 3)


def test_saved_module_loads_back_with_the_same_weights(
    linear: torch.nn.Module, rows: np.ndarray, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m")

    loaded = kiln_pytorch.load_model(tmp_path / "m")

    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(
            loaded(torch.from_numpy(rows)), linear(torch.from_numpy(rows))
        )


def test_folder_follows_the_pytorch_flavor_layout(
    linear: torch.nn.Module, tmp_path: Path
) -> None:
    model = kiln_pytorch.save_model(linear, tmp_path / "m")

    assert (tmp_path / "m" / "data" / "model.pth").is_file()
    info = (tmp_path / "m" / "data" / "pickle_module_info.txt").read_text()
    assert info == "mlflow.pytorch.pickle_module"
    assert model.flavors["pytorch"]["model_data"] == "data"
    assert model.flavors["pytorch"]["pytorch_version"] == torch.__version__
    assert model.pyfunc_config["loader_module"] == "mlflow.pytorch"
    assert model.pyfunc_config["data"] == "data"


def test_requirements_pin_the_public_torch_release(
    linear: torch.nn.Module, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m")

    lines = (tmp_path / "m" / "requirements.txt").read_text().splitlines()

    release = torch.__version__.split("+")[0]
    assert f"torch=={release}" in lines


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(torch.ones(2, 3), id="tensor"),
        pytest.param(np.ones((2, 3), dtype=np.float32), id="numpy"),
    ],
)
def test_signature_is_inferred_from_a_tensor_or_array_example(
    linear: torch.nn.Module, example: object, tmp_path: Path
) -> None:
    model = kiln_pytorch.save_model(linear, tmp_path / "m", input_example=example)

    assert model.signature == ModelSignature(
        Schema((TensorSpec("float32", (-1, 3)),)),
        Schema((TensorSpec("float32", (-1, 2)),)),
    )


def test_pyfunc_predicts_arrays_as_arrays(
    linear: torch.nn.Module, rows: np.ndarray, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m", input_example=rows)

    predicted = pyfunc.load_model(tmp_path / "m").predict(rows)

    with torch.no_grad():
        expected = linear(torch.from_numpy(rows)).numpy()
    assert isinstance(predicted, np.ndarray)
    np.testing.assert_array_equal(predicted, expected)


def test_pyfunc_predicts_frames_as_frames_keeping_the_index(tmp_path: Path) -> None:
    kiln_pytorch.save_model(Scale(), tmp_path / "m")
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4], "c": [2, 0]}, index=[7, 9])

    predicted = pyfunc.load_model(tmp_path / "m").predict(frame)

    assert isinstance(predicted, pd.DataFrame)
    assert list(predicted.index) == [7, 9]
    assert predicted[0].tolist() == [0.0, 0.0]


def test_pyfunc_params_reach_forward(tmp_path: Path) -> None:
    kiln_pytorch.save_model(Scale(), tmp_path / "m")
    rows = np.array([[1.0, 1.0, 2.0]], dtype=np.float32)

    predicted = pyfunc.load_model(tmp_path / "m").predict(rows, {"offset": 1.5})

    assert predicted.tolist() == [[3.5]]


def test_pyfunc_enforces_the_tensor_signature(
    linear: torch.nn.Module, rows: np.ndarray, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m", input_example=rows)
    model = pyfunc.load_model(tmp_path / "m")

    with pytest.raises(InvalidParameterValue, match="shape"):
        model.predict(np.ones((2, 4), dtype=np.float32))


def test_pyfunc_refuses_inputs_other_than_frames_and_arrays(
    linear: torch.nn.Module, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m")

    with pytest.raises(InvalidParameterValue, match="DataFrame or a numpy array"):
        pyfunc.load_model(tmp_path / "m").predict(1.0)


def test_log_model_loads_from_the_run(
    linear: torch.nn.Module, rows: np.ndarray
) -> None:
    with kiln.start_run():
        info = kiln_pytorch.log_model(linear, name="net", input_example=rows)

    loaded = kiln_pytorch.load_model(info.model_uri)

    assert info.flavors["pytorch"]["model_data"] == "data"
    with torch.no_grad():
        assert torch.equal(
            loaded(torch.from_numpy(rows)), linear(torch.from_numpy(rows))
        )


def test_save_refuses_what_is_not_a_module(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=r"torch\.nn\.Module"):
        kiln_pytorch.save_model(object(), tmp_path / "m")


def test_load_model_without_the_pytorch_flavor_says_so(tmp_path: Path) -> None:
    class Echo(pyfunc.PythonModel):
        def predict(self, context: object, model_input: object) -> object:
            return model_input

    pyfunc.save_model(tmp_path / "m", python_model=Echo())

    with pytest.raises(InvalidParameterValue, match="no 'pytorch' flavor"):
        kiln_pytorch.load_model(tmp_path / "m")


def test_a_truncated_model_file_is_reported(
    linear: torch.nn.Module, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m")
    (tmp_path / "m" / "data" / "model.pth").write_bytes(b"PK\x03\x04")

    with pytest.raises(InvalidParameterValue, match="truncated or corrupt"):
        kiln_pytorch.load_model(tmp_path / "m")


def test_loading_without_torch_installed_names_the_package(
    linear: torch.nn.Module, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiln_pytorch.save_model(linear, tmp_path / "m")
    # A None entry makes ``import torch`` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "torch", None)

    with pytest.raises(KilnError, match=r"'torch'.*kiln-ml\[pytorch\]"):
        pyfunc.load_model(tmp_path / "m")
    with pytest.raises(KilnError, match=r"kiln-ml\[pytorch\]"):
        kiln_pytorch.load_model(tmp_path / "m")


def test_pt2_models_are_traced_graphs_that_keep_the_batch_free(
    linear: torch.nn.Module, rows: np.ndarray, tmp_path: Path
) -> None:
    kiln_pytorch.save_model(
        linear, tmp_path / "m", input_example=rows, serialization_format="pt2"
    )
    batch = np.ones((5, 3), dtype=np.float32)

    predicted = pyfunc.load_model(tmp_path / "m").predict(batch)

    assert (tmp_path / "m" / "data" / "model.pt2").is_file()
    assert not (tmp_path / "m" / "data" / "model.pth").exists()
    with torch.no_grad():
        expected = linear(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(predicted, expected, rtol=1e-6)


def test_pt2_needs_an_array_example(linear: torch.nn.Module, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="pt2"):
        kiln_pytorch.save_model(linear, tmp_path / "m", serialization_format="pt2")
