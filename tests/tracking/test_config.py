from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from kiln.errors import InvalidParameterValue, NotImplementedFeature
from kiln.tracking import config
from kiln.tracking.stores import get_store, resolve_uri


def test_explicit_uri_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_TRACKING_URI", "sqlite:///kiln-env.db")
    config.set_tracking_uri("sqlite:///explicit.db")
    assert config.get_tracking_uri() == "sqlite:///explicit.db"


@pytest.mark.parametrize(
    ("kiln_uri", "mlflow_uri", "expected"),
    [
        ("sqlite:///k.db", "sqlite:///m.db", "sqlite:///k.db"),
        (None, "sqlite:///m.db", "sqlite:///m.db"),
        ("", "sqlite:///m.db", "sqlite:///m.db"),
        (None, None, "sqlite:///kiln-data/kiln.db"),
    ],
)
def test_environment_order_then_default(
    monkeypatch: pytest.MonkeyPatch,
    kiln_uri: str | None,
    mlflow_uri: str | None,
    expected: str,
) -> None:
    config.set_tracking_uri(None)
    for name, value in (
        ("KILN_TRACKING_URI", kiln_uri),
        ("MLFLOW_TRACKING_URI", mlflow_uri),
    ):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert config.get_tracking_uri() == expected


def test_default_store_lives_under_working_directory(tmp_path: Path) -> None:
    config.set_tracking_uri(None)
    store = get_store(config.get_tracking_uri())
    experiment = store.get_experiment("0")
    assert (tmp_path / "kiln-data" / "kiln.db").is_file()
    assert experiment.artifact_location.startswith(
        str(tmp_path / "kiln-data" / "artifacts")
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///dir/x.db", "dir/artifacts"),
        ("sqlite:////abs/place/x.db", "/abs/place/artifacts"),
        ("postgresql://u@localhost/kiln", "kiln-data/artifacts"),
    ],
)
def test_default_artifact_root_sits_beside_database(
    tmp_path: Path, uri: str, expected: str
) -> None:
    assert config.default_artifact_root(uri) == str((tmp_path / expected).resolve())


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("s3://bucket/kiln", "s3://bucket/kiln"),
        ("file:///srv/artifacts", "file:///srv/artifacts"),
        ("rel/art", "{tmp}/rel/art"),
    ],
)
def test_artifact_root_variable_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured: str, expected: str
) -> None:
    monkeypatch.setenv("KILN_ARTIFACT_ROOT", configured)
    root = config.default_artifact_root("sqlite:///x.db")
    assert root == expected.format(tmp=tmp_path.resolve())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///a/b.db", "{tmp}/a/b.db"),
        ("sqlite:////abs/b.db", "/abs/b.db"),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql://localhost/db", None),
        ("http://localhost:5000", None),
    ],
)
def test_sqlite_path(tmp_path: Path, uri: str, expected: str | None) -> None:
    found = config.sqlite_path(uri)
    wanted = None if expected is None else expected.format(tmp=tmp_path.resolve())
    assert (None if found is None else str(found)) == wanted


def test_relative_sqlite_uri_resolves_against_working_directory(tmp_path: Path) -> None:
    assert (
        resolve_uri("sqlite:///x/k.db?mode=rw")
        == f"sqlite:///{tmp_path}/x/k.db?mode=rw"
    )


def test_store_is_shared_per_uri(tracking_uri: str) -> None:
    assert get_store(tracking_uri) is get_store(tracking_uri)


def test_same_relative_uri_in_two_folders_opens_two_stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    first = get_store("sqlite:///k.db")
    monkeypatch.chdir(tmp_path / "b")
    assert get_store("sqlite:///k.db") is not first


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="ftp://x"):
        get_store("ftp://x")


def test_server_uri_needs_rest_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the module were absent.
    monkeypatch.setitem(sys.modules, "kiln.store.rest", None)
    with pytest.raises(NotImplementedFeature, match=r"http://tracking\.example"):
        get_store("http://tracking.example")


def test_server_uri_opens_rest_store(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeRestStore:
        def __init__(self, uri: str) -> None:
            self.uri = uri

    module = types.ModuleType("kiln.store.rest")
    module.RestStore = FakeRestStore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kiln.store.rest", module)
    store = get_store("https://tracking.example")
    assert isinstance(store, FakeRestStore)
    assert store.uri == "https://tracking.example"
