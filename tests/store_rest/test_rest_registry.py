"""RestStore's registry methods and registry URIs against a running
``kiln server``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from server.processes import running_server
from sklearn.linear_model import LogisticRegression

# Session-wide stock MLflow and Kiln servers, shared with the other live tests.
from test_rest_live_servers import Server
from test_rest_live_servers import server as server

import kiln
from kiln import pyfunc
from kiln import sklearn as kiln_sklearn
from kiln.entities import ModelVersionTag, RegisteredModelAlias, RegisteredModelTag
from kiln.errors import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.rest import RestStore
from kiln.tracking import config
from kiln.tracking.stores import clear_stores

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture
def store(base_url: str) -> Iterator[RestStore]:
    with RestStore(base_url) as rest:
        yield rest


def test_rest_store_registry_round_trip(store: RestStore) -> None:
    store.create_registered_model("rest", [RegisteredModelTag("k", "v")], "d")
    with pytest.raises(ResourceAlreadyExists):
        store.create_registered_model("rest")
    run = store.create_run("0", "u", 1, [], None)
    source = f"runs:/{run.info.run_id}/model"
    first = store.create_model_version("rest", source, run.info.run_id)
    second = store.create_model_version(
        "rest", source, run.info.run_id, [ModelVersionTag("t", "1")], None, "two"
    )
    assert (first.version, second.version) == ("1", "2")
    assert second.tags == {"t": "1"} and second.description == "two"
    store.set_registered_model_alias("rest", "champion", "2")
    assert store.get_model_version_by_alias("rest", "champion").version == "2"
    with pytest.raises(InvalidParameterValue):
        store.get_model_version_by_alias("rest", "nobody")
    store.transition_model_version_stage("rest", "1", "Production")
    latest = store.get_latest_versions("rest", ["Production"])
    assert [v.version for v in latest] == ["1"]
    model = store.get_registered_model("rest")
    assert model.aliases == (RegisteredModelAlias("champion", "2"),)
    assert model.tags == {"k": "v"} and model.description == "d"
    found = store.search_model_versions("name = 'rest'", order_by=["version_number"])
    assert [(v.version, v.aliases) for v in found] == [("1", ()), ("2", ("champion",))]
    assert store.search_registered_models("name = 'rest'")[0].aliases == model.aliases
    expected = f"{run.info.artifact_uri}/model"
    assert store.get_model_version_download_uri("rest", "1") == expected
    store.set_model_version_tag("rest", "1", ModelVersionTag("a", "b"))
    store.delete_model_version_tag("rest", "1", "a")
    store.set_registered_model_tag("rest", RegisteredModelTag("x", "y"))
    store.delete_registered_model_tag("rest", "x")
    store.update_registered_model("rest", "new")
    store.update_model_version("rest", "1", "one")
    store.delete_registered_model_alias("rest", "champion")
    store.delete_registered_model_alias("rest", "champion")
    store.delete_model_version("rest", "2")
    assert store.rename_registered_model("rest", "rest2").name == "rest2"
    store.delete_registered_model("rest2")
    with pytest.raises(ResourceDoesNotExist):
        store.get_registered_model("rest2")


def test_rest_store_registry_speaks_mlflows_protocol(server: Server) -> None:
    name = f"shared-{server.kind}"
    with RestStore(server.url) as rest:
        rest.create_registered_model(name, [RegisteredModelTag("k", "v")])
        for _ in range(2):
            rest.create_model_version(name, "s3://bucket/model")
        rest.set_registered_model_alias(name, "champion", "1")
        rest.set_registered_model_alias(name, "champion", "2")
        assert rest.get_model_version_by_alias(name, "champion").version == "2"
        with pytest.raises(InvalidParameterValue):
            rest.get_model_version_by_alias(name, "nobody")
        with pytest.raises(InvalidParameterValue):
            rest.set_registered_model_alias(name, "latest", "1")
        moved = rest.transition_model_version_stage(name, "1", "staging")
        assert moved.current_stage == "Staging"
        (found,) = rest.search_registered_models(f"name = '{name}'")
        assert found.aliases == (RegisteredModelAlias("champion", "2"),)
        assert found.tags == {"k": "v"}
        versions = rest.search_model_versions(f"name = '{name}'")
        assert sorted(v.version for v in versions) == ["1", "2"]
        if server.kind == "kiln":
            # MLflow's own SQL store leaves aliases out of version searches.
            assert {v.version: v.aliases for v in versions} == {
                "1": (),
                "2": ("champion",),
            }
        assert rest.get_model_version_download_uri(name, "1") == "s3://bucket/model"
        rest.delete_registered_model_tag(name, "absent")
        rest.delete_registered_model_alias(name, "champion")
        rest.delete_registered_model_alias(name, "champion")
        rest.delete_registered_model(name)
        with pytest.raises(ResourceDoesNotExist):
            rest.get_registered_model(name)


def test_load_by_alias_through_the_server(
    base_url: str,
    frame: pd.DataFrame,
    labels: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KILN_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(config, "_explicit_tracking_uri", base_url)
    try:
        estimator = LogisticRegression().fit(frame, labels)
        with kiln.start_run():
            info = kiln_sklearn.log_model(estimator, name="clf")
        version = kiln.register_model(info.model_uri, "served")
        kiln.KilnClient().set_registered_model_alias("served", "prod", version.version)
        loaded = pyfunc.load_model("models:/served@prod")
        np.testing.assert_array_equal(loaded.predict(frame), estimator.predict(frame))
    finally:
        clear_stores()


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(20, 3)), columns=["a", "b", "c"])


@pytest.fixture
def labels(frame: pd.DataFrame) -> np.ndarray:
    return (frame["a"] > 0).astype(int).to_numpy()
