"""Artifacts through a Kiln server's proxy: KilnClient end to end, and the
HTTP repository's requests on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kiln.artifacts import get_repository
from kiln.artifacts.http import HttpRepository
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist
from kiln.store.rest import RestClient, RestConfig
from kiln.tracking.client import KilnClient

from .conftest import LiveServer


def _client_and_run(server: LiveServer) -> tuple[KilnClient, str]:
    client = KilnClient(server.url)
    experiment_id = client.create_experiment("remote")
    return client, client.create_run(experiment_id).info.run_id


def test_a_logged_file_is_stored_by_the_server_and_listed(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client, run_id = _client_and_run(live_server)
    report = tmp_path / "report.txt"
    report.write_text("accuracy 0.9\n")

    client.log_artifact(run_id, report, "reports")

    root = client.get_run(run_id).info.artifact_uri
    assert root.startswith("mlflow-artifacts:/")
    stored = live_server.artifacts / root.removeprefix("mlflow-artifacts:/")
    assert (stored / "reports" / "report.txt").read_text() == "accuracy 0.9\n"
    [folder] = client.list_artifacts(run_id)
    assert (folder.path, folder.is_dir) == ("reports", True)
    [file] = client.list_artifacts(run_id, "reports")
    assert (file.path, file.is_dir, file.file_size) == ("reports/report.txt", False, 13)


def test_a_folder_round_trips_through_the_proxy(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client, run_id = _client_and_run(live_server)
    source = tmp_path / "model"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "weights.bin").write_bytes(bytes(range(256)) * 100)

    client.log_artifacts(run_id, source, "model")
    landed = Path(client.download_artifacts(run_id, "model", tmp_path / "out"))

    assert landed == tmp_path / "out" / "model"
    assert (landed / "MLmodel").read_text() == "flavors: {}\n"
    assert (landed / "data" / "weights.bin").read_bytes() == bytes(range(256)) * 100
    assert not list((tmp_path / "out").rglob(".kiln-download-*"))


def test_text_and_dicts_are_logged_and_downloaded(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client, run_id = _client_and_run(live_server)

    client.log_text(run_id, "hello", "notes/a.txt")
    client.log_dict(run_id, {"lr": 0.1}, "config.json")
    whole = Path(client.download_artifacts(run_id, "", tmp_path / "all"))
    single = client.download_artifacts(run_id, "notes/a.txt", tmp_path / "one")

    assert (whole / "notes" / "a.txt").read_text() == "hello"
    assert json.loads((whole / "config.json").read_text()) == {"lr": 0.1}
    assert Path(single).read_text() == "hello"
    assert Path(single) == tmp_path / "one" / "notes" / "a.txt"


def test_downloading_a_missing_artifact_says_so(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client, run_id = _client_and_run(live_server)

    with pytest.raises(ResourceDoesNotExist, match="nothing"):
        client.download_artifacts(run_id, "nothing.txt", tmp_path)
    assert client.list_artifacts(run_id, "no/such/folder") == []


def test_deleting_removes_a_file_or_a_folder(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client, run_id = _client_and_run(live_server)
    client.log_text(run_id, "1", "a/one.txt")
    client.log_text(run_id, "2", "a/two.txt")
    client.log_text(run_id, "3", "b.txt")
    repository = client._repository(run_id)

    repository.delete_artifacts("a/one.txt")
    assert [f.path for f in client.list_artifacts(run_id, "a")] == ["a/two.txt"]
    repository.delete_artifacts("a")
    repository.delete_artifacts("a")  # already gone: still fine

    assert [f.path for f in client.list_artifacts(run_id)] == ["b.txt"]


@pytest.mark.parametrize(
    "form",
    [
        lambda url: "mlflow-artifacts:/shared",
        lambda url: f"mlflow-artifacts://{url.removeprefix('http://')}/shared",
        lambda url: f"{url}/api/2.0/mlflow-artifacts/artifacts/shared",
    ],
    ids=["proxy-uri", "proxy-uri-with-host", "http-url"],
)
def test_every_form_of_proxy_root_reaches_the_same_files(
    live_server: LiveServer, tmp_path: Path, form: Callable[[str], str]
) -> None:
    (tmp_path / "f.txt").write_text("x")
    get_repository("mlflow-artifacts:/shared", tracking_uri=live_server.url)
    writer = get_repository("mlflow-artifacts:/shared", tracking_uri=live_server.url)
    writer.log_artifact(tmp_path / "f.txt", "d")

    reader = get_repository(form(live_server.url), tracking_uri=live_server.url)

    assert isinstance(reader, HttpRepository)
    assert [f.path for f in reader.list_artifacts("d")] == ["d/f.txt"]


def test_a_proxy_uri_without_a_tracking_server_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="tracking server"):
        get_repository("mlflow-artifacts:/1/abc", tracking_uri="sqlite:///k.db")


class Recorder(httpx.BaseTransport):
    """A fake proxy answering every request, keeping what it received."""

    def __init__(self, listing: object = None) -> None:
        self.requests: list[httpx.Request] = []
        self.streamed: list[bool] = []
        self.bodies: list[bytes] = []
        self.listing = listing or {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        # A body held in memory arrives as one ByteStream; a file is read on.
        self.streamed.append(not isinstance(request.stream, httpx.ByteStream))
        self.bodies.append(request.read())
        if request.method == "GET" and request.url.path.endswith("/artifacts"):
            return httpx.Response(200, json=self.listing)
        return httpx.Response(200, json={})


def _rest_client(recorder: Recorder, **config: object) -> RestClient:
    settings = RestConfig(max_retries=0, **config)  # type: ignore[arg-type]
    return RestClient("http://tracking:5000", settings, transport=recorder)


def test_an_upload_is_one_streamed_put_with_a_guessed_type(tmp_path: Path) -> None:
    recorder = Recorder()
    http = _rest_client(recorder, token="secret")
    plot = tmp_path / "loss plot.png"
    plot.write_bytes(b"\x89PNG" + bytes(5000))

    get_repository("mlflow-artifacts:/1/r/artifacts", http=http).log_artifact(
        plot, "plots"
    )

    [request] = recorder.requests
    assert request.method == "PUT"
    assert request.url.raw_path == (
        b"/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/plots/loss%20plot.png"
    )
    assert request.headers["Content-Type"] == "image/png"
    assert request.headers["Content-Length"] == "5004"
    assert request.headers["Authorization"] == "Bearer secret"
    assert recorder.streamed == [True]
    assert recorder.bodies == [b"\x89PNG" + bytes(5000)]


def test_another_server_named_by_the_uri_gets_no_credentials(tmp_path: Path) -> None:
    recorder = Recorder()
    http = _rest_client(recorder, token="secret")
    repository = get_repository(
        "https://elsewhere.example/api/2.0/mlflow-artifacts/artifacts/x", http=http
    )

    assert isinstance(repository, HttpRepository)
    assert repository.http is not http
    assert repository.http.base_url == "https://elsewhere.example"
    assert repository.http.config.authorization() is None


def test_listing_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    listing = {
        "files": [
            {"path": "b.txt", "is_dir": False, "file_size": 3},
            {"path": "a", "is_dir": True},
        ]
    }
    recorder = Recorder(listing)
    repository = get_repository("mlflow-artifacts:/1/r", http=_rest_client(recorder))

    files = repository.list_artifacts("sub")

    assert [(f.path, f.is_dir, f.file_size) for f in files] == [
        ("sub/a", True, None),
        ("sub/b.txt", False, 3),
    ]
    assert recorder.requests[0].url.params["path"] == "1/r/sub"


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "/etc"])
def test_a_hostile_listing_name_is_refused_before_touching_disk(
    tmp_path: Path, name: str
) -> None:
    recorder = Recorder({"files": [{"path": name, "is_dir": False}]})
    repository = get_repository("mlflow-artifacts:/1", http=_rest_client(recorder))

    with pytest.raises(InvalidParameterValue):
        repository.download_artifacts("", tmp_path / "out")
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize(
    "path", ["../x", "a/../../x", "/etc/passwd", "a%2f..%2f..%2fx"]
)
def test_traversal_in_an_artifact_path_is_refused(tmp_path: Path, path: str) -> None:
    recorder = Recorder()
    repository = get_repository("mlflow-artifacts:/1", http=_rest_client(recorder))
    (tmp_path / "f.txt").write_text("x")

    with pytest.raises(InvalidParameterValue):
        repository.log_artifact(tmp_path / "f.txt", path)
    with pytest.raises(InvalidParameterValue):
        repository.download_artifacts(path, tmp_path)
    assert recorder.requests == []
