from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest
import yaml

import kiln
from kiln.errors import InvalidParameterValue
from kiln.tracking.client import KilnClient

matplotlib.use("Agg")


@pytest.fixture
def run_id(client: KilnClient) -> str:
    return client.create_run("0").info.run_id


def _listing(
    client: KilnClient, run_id: str, path: str | None = None
) -> dict[str, bool]:
    return {f.path: f.is_dir for f in client.list_artifacts(run_id, path)}


def test_log_and_download_file(client: KilnClient, run_id: str, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01payload")
    client.log_artifact(run_id, source)
    client.log_artifact(run_id, source, artifact_path="backup/old")
    assert _listing(client, run_id) == {"weights.bin": False, "backup": True}
    assert _listing(client, run_id, "backup") == {"backup/old": True}

    out = Path(
        client.download_artifacts(run_id, "backup/old/weights.bin", tmp_path / "dl")
    )
    assert out.read_bytes() == b"\x00\x01payload"


def test_log_folder(client: KilnClient, run_id: str, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    (folder / "img").mkdir(parents=True)
    (folder / "index.html").write_text("<p>hi</p>")
    (folder / "img" / "a.png").write_bytes(b"png")
    client.log_artifacts(run_id, folder, artifact_path="report")
    assert _listing(client, run_id, "report") == {
        "report/index.html": False,
        "report/img": True,
    }
    local = Path(client.download_artifacts(run_id, "report", tmp_path / "dl"))
    assert (local / "img" / "a.png").read_bytes() == b"png"


def test_artifact_uri_is_under_experiment_root(client: KilnClient, run_id: str) -> None:
    root = client.get_artifact_uri(run_id)
    assert root == client.get_run(run_id).info.artifact_uri
    assert client.get_artifact_uri(run_id, "a/b.txt") == f"{root}/a/b.txt"


def test_log_text(client: KilnClient, run_id: str, tmp_path: Path) -> None:
    client.log_text(run_id, "héllo\n", "notes/readme.txt")
    path = client.download_artifacts(run_id, "notes/readme.txt", tmp_path)
    assert Path(path).read_text(encoding="utf-8") == "héllo\n"


@pytest.mark.parametrize(
    ("name", "load"),
    [
        ("cfg.json", json.loads),
        ("cfg.yaml", yaml.safe_load),
        ("cfg.yml", yaml.safe_load),
    ],
)
def test_log_dict_format_follows_extension(
    client: KilnClient, run_id: str, tmp_path: Path, name: str, load: object
) -> None:
    data = {"lr": 0.1, "layers": [64, 32], "name": "cnn"}
    client.log_dict(run_id, data, f"config/{name}")
    text = Path(
        client.download_artifacts(run_id, f"config/{name}", tmp_path)
    ).read_text()
    assert load(text) == data  # type: ignore[operator]


def test_log_dict_refuses_unserializable(client: KilnClient, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue, match=r"cfg\.json"):
        client.log_dict(run_id, {"x": object()}, "cfg.json")


@pytest.mark.parametrize("artifact_file", ["", "/", "folder/"])
def test_bad_artifact_file_is_refused(
    client: KilnClient, run_id: str, artifact_file: str
) -> None:
    with pytest.raises(InvalidParameterValue, match="artifact file"):
        client.log_text(run_id, "x", artifact_file)


def test_escaping_artifact_file_is_refused(client: KilnClient, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue):
        client.log_text(run_id, "x", "../outside.txt")


def test_log_figure(client: KilnClient, run_id: str, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([1, 2, 3], [3, 1, 2])
    client.log_figure(run_id, figure, "plots/curve.png")
    client.log_figure(run_id, figure, "plots/curve.svg")
    png = Path(client.download_artifacts(run_id, "plots/curve.png", tmp_path))
    assert png.read_bytes().startswith(b"\x89PNG")
    svg = Path(client.download_artifacts(run_id, "plots/curve.svg", tmp_path))
    assert "<svg" in svg.read_text()


def test_log_figure_refuses_other_objects(client: KilnClient, run_id: str) -> None:
    with pytest.raises(InvalidParameterValue, match="'dict'"):
        client.log_figure(run_id, {}, "plot.png")


def test_fluent_artifacts(client: KilnClient, tmp_path: Path) -> None:
    source = tmp_path / "model.txt"
    source.write_text("weights")
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    from matplotlib.figure import Figure

    with kiln.start_run() as run:
        kiln.log_artifact(source, "model")
        kiln.log_artifacts(folder)
        kiln.log_text("notes", "notes.md")
        kiln.log_dict({"a": 1}, "meta.json")
        kiln.log_figure(Figure(), "fig.png")
        assert kiln.get_artifact_uri() == run.info.artifact_uri
    assert _listing(client, run.info.run_id) == {
        "model": True,
        "x.txt": False,
        "notes.md": False,
        "meta.json": False,
        "fig.png": False,
    }


class _PlotlyLikeFigure:
    """Stands in for plotly's Figure: same module prefix, same writers."""

    def write_html(self, path: str) -> None:
        Path(path).write_text("<html>figure</html>")

    def write_image(self, path: str) -> None:
        Path(path).write_bytes(b"image")


_PlotlyLikeFigure.__module__ = "plotly.graph_objs._figure"


@pytest.mark.parametrize(
    ("name", "content"), [("fig.html", b"<html>figure</html>"), ("fig.png", b"image")]
)
def test_log_plotly_figure(
    client: KilnClient, run_id: str, tmp_path: Path, name: str, content: bytes
) -> None:
    client.log_figure(run_id, _PlotlyLikeFigure(), name)
    assert (
        Path(client.download_artifacts(run_id, name, tmp_path)).read_bytes() == content
    )
