from __future__ import annotations

import threading

import pytest

from kiln.entities import (
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from kiln.errors import (
    InvalidFilter,
    InvalidParameterValue,
    KilnError,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from kiln.store.sql.store import SqlStore


def _run_root(store: SqlStore) -> tuple[str, str]:
    run = store.create_run("0", "u", 1, [], None)
    return run.info.run_id, run.info.artifact_uri


def _version(store: SqlStore, name: str = "m") -> str:
    run_id, _ = _run_root(store)
    return store.create_model_version(name, f"runs:/{run_id}/model", run_id).version


def test_create_and_get_registered_model(store: SqlStore) -> None:
    created = store.create_registered_model(
        "model", [RegisteredModelTag("team", "a")], "first"
    )
    got = store.get_registered_model("model")
    assert got == created
    assert got.tags == {"team": "a"}
    assert got.description == "first"
    assert got.creation_timestamp == got.last_updated_timestamp > 0
    assert got.latest_versions == () and got.aliases == ()


def test_create_registered_model_twice_is_refused(store: SqlStore) -> None:
    store.create_registered_model("model")
    with pytest.raises(ResourceAlreadyExists, match="'model'"):
        store.create_registered_model("model")


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "..", "x\x00y", "n" * 257])
def test_bad_registered_model_names_are_refused(store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        store.create_registered_model(name)


def test_unknown_registered_model_is_404(store: SqlStore) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.get_registered_model("nope")
    with pytest.raises(ResourceDoesNotExist):
        store.create_model_version("nope", "s3://b/k")


def test_versions_number_from_one_and_are_ready(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id, root = _run_root(store)
    first = store.create_model_version(
        "m",
        f"runs:/{run_id}/model",
        run_id,
        tags=[ModelVersionTag("k", "v")],
        description="d",
    )
    second = store.create_model_version("m", f"{root}/model", run_id)
    assert (first.version, second.version) == ("1", "2")
    assert first.status == ModelVersionStatus.READY
    assert first.current_stage == ModelVersionStage.NONE
    assert first.tags == {"k": "v"} and first.description == "d"
    assert store.get_model_version_download_uri("m", "1") == f"{root}/model"
    store.delete_model_version("m", "2")
    assert store.create_model_version("m", f"{root}/model", run_id).version == "2"


def test_rename_takes_versions_tags_and_aliases(store: SqlStore) -> None:
    store.create_registered_model("old", [RegisteredModelTag("t", "1")])
    _version(store, "old")
    store.set_model_version_tag("old", "1", ModelVersionTag("k", "v"))
    store.set_registered_model_alias("old", "champion", "1")
    renamed = store.rename_registered_model("old", "new")
    assert renamed.name == "new" and renamed.tags == {"t": "1"}
    assert renamed.aliases == (RegisteredModelAlias("champion", "1"),)
    version = store.get_model_version("new", "1")
    assert version.tags == {"k": "v"} and version.aliases == ("champion",)
    with pytest.raises(ResourceDoesNotExist):
        store.get_registered_model("old")


def test_rename_onto_an_existing_name_is_refused(store: SqlStore) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    with pytest.raises(ResourceAlreadyExists):
        store.rename_registered_model("a", "b")


def test_update_and_delete_registered_model(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    assert store.update_registered_model("m", "new").description == "new"
    assert store.update_model_version("m", "1", "v").description == "v"
    store.delete_registered_model("m")
    with pytest.raises(ResourceDoesNotExist):
        store.get_model_version("m", "1")
    store.create_registered_model("m")
    assert store.search_model_versions("name = 'm'") == []


def test_tags_set_overwrite_and_delete_missing_succeeds(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    store.set_registered_model_tag("m", RegisteredModelTag("k", "1"))
    store.set_registered_model_tag("m", RegisteredModelTag("k", "2"))
    assert store.get_registered_model("m").tags == {"k": "2"}
    store.delete_registered_model_tag("m", "k")
    store.delete_registered_model_tag("m", "k")
    store.delete_model_version_tag("m", "1", "absent")
    assert store.get_registered_model("m").tags == {}


def test_stage_transitions_and_latest_versions(store: SqlStore) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        _version(store)
    store.transition_model_version_stage("m", "1", "production")
    store.transition_model_version_stage("m", "2", "Staging")
    moved = store.transition_model_version_stage("m", "3", "PRODUCTION", True)
    assert moved.current_stage == "Production"
    assert store.get_model_version("m", "1").current_stage == "Archived"
    latest = {v.current_stage: v.version for v in store.get_latest_versions("m")}
    assert latest == {"Staging": "2", "Production": "3", "Archived": "1"}
    only = store.get_latest_versions("m", ["staging"])
    assert [v.version for v in only] == ["2"]
    model = store.get_registered_model("m")
    assert [v.version for v in model.latest_versions] == ["2", "3", "1"]


def test_bad_stage_and_archiving_into_other_stages_fail(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    with pytest.raises(InvalidParameterValue, match="'Deployed'"):
        store.transition_model_version_stage("m", "1", "Deployed")
    with pytest.raises(KilnError) as caught:
        store.transition_model_version_stage("m", "1", "Archived", True)
    assert caught.value.error_code == "INTERNAL_ERROR"
    with pytest.raises(InvalidParameterValue):
        store.get_latest_versions("m", ["Deployed"])


def test_aliases_move_delete_and_resolve(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    _version(store)
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "champion", "2")
    assert store.get_model_version_by_alias("m", "champion").version == "2"
    assert store.get_model_version("m", "1").aliases == ()
    assert store.get_model_version_by_alias("m", "latest").version == "2"
    store.delete_registered_model_alias("m", "champion")
    store.delete_registered_model_alias("m", "champion")
    with pytest.raises(InvalidParameterValue, match="'champion'"):
        store.get_model_version_by_alias("m", "champion")


def test_deleting_a_version_drops_its_aliases(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    store.set_registered_model_alias("m", "a", "1")
    store.delete_model_version("m", "1")
    assert store.get_registered_model("m").aliases == ()


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "a b", "", "x/y"])
def test_reserved_and_malformed_aliases_are_refused(
    store: SqlStore, alias: str
) -> None:
    store.create_registered_model("m")
    _version(store)
    with pytest.raises(InvalidParameterValue):
        store.set_registered_model_alias("m", alias, "1")


def test_alias_to_unknown_version_is_404(store: SqlStore) -> None:
    store.create_registered_model("m")
    with pytest.raises(ResourceDoesNotExist):
        store.set_registered_model_alias("m", "a", "3")


def test_sources_under_the_run_or_model_root_are_accepted(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id, root = _run_root(store)
    logged = store.create_logged_model("0", "lm", source_run_id=run_id)
    sources = [
        (f"{root}/model", run_id, None),
        (f"file://{root}/model", run_id, None),
        (f"models:/{logged.model_id}", None, logged.model_id),
        (f"{logged.artifact_location}/MLmodel", None, logged.model_id),
        ("s3://bucket/key", None, None),
    ]
    for source, run, model in sources:
        store.create_model_version("m", source, run, model_id=model)
    uri = store.get_model_version_download_uri("m", "3")
    assert uri == logged.artifact_location


@pytest.mark.parametrize(
    "source",
    [
        "/etc",
        "file:///etc/passwd",
        "{root}/../../secret",
        "{root}/%2e%2e/%2e%2e/secret",
        "{root}/%252e%252e/x",
        "{root}/a\x00b",
        "runs:/{run}/../../x",
        "runs:/{other}/model",
        "mlflow-artifacts:/0/elsewhere",
        "models:/m-0123",
    ],
)
def test_sources_outside_the_run_are_refused(store: SqlStore, source: str) -> None:
    store.create_registered_model("m")
    run_id, root = _run_root(store)
    other, _ = _run_root(store)
    logged = store.create_logged_model("0", "lm")
    text = source.format(root=root, run=run_id, other=other)
    with pytest.raises(InvalidParameterValue):
        store.create_model_version("m", text, run_id, model_id=logged.model_id)
    assert store.search_model_versions() == []


def test_local_source_without_a_run_is_refused(store: SqlStore) -> None:
    store.create_registered_model("m")
    _, root = _run_root(store)
    with pytest.raises(InvalidParameterValue):
        store.create_model_version("m", f"{root}/model")


def test_models_name_version_source_resolves(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    store.create_model_version("m", "models:/m/1")
    first = store.get_model_version_download_uri("m", "1")
    assert store.get_model_version_download_uri("m", "2") == first


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["a-1", "a-2", "b"]),
        ("name = 'b'", ["b"]),
        ("name != 'b'", ["a-1", "a-2"]),
        ("name LIKE 'a-%'", ["a-1", "a-2"]),
        ("name ILIKE 'A-%'", ["a-1", "a-2"]),
        ("name IN ('b', 'a-2')", ["a-2", "b"]),
        ("tags.team = 'x'", ["a-1"]),
        ("tags.team LIKE '%'", ["a-1", "b"]),
        ("tags.team != 'x'", ["a-2", "b"]),
        ("tags.`mlflow.prompt.is_prompt` != 'true'", ["a-1", "a-2", "b"]),
        ("name LIKE 'a%' AND tags.team = 'y'", []),
    ],
)
def test_search_registered_models_filters(
    store: SqlStore, filter_string: str | None, expected: list[str]
) -> None:
    store.create_registered_model("b", [RegisteredModelTag("team", "y")])
    store.create_registered_model("a-2")
    store.create_registered_model("a-1", [RegisteredModelTag("team", "x")])
    found = store.search_registered_models(filter_string)
    assert [m.name for m in found] == expected


def test_search_registered_models_orders_and_pages(store: SqlStore) -> None:
    for name in ("c", "a", "b"):
        store.create_registered_model(name)
    names = [m.name for m in store.search_registered_models(order_by=["name DESC"])]
    assert names == ["c", "b", "a"]
    store.search_registered_models(order_by=["timestamp DESC"])
    with pytest.raises(InvalidFilter):
        store.search_registered_models(order_by=["creation_timestamp"])
    first = store.search_registered_models(max_results=2)
    assert [m.name for m in first] == ["a", "b"] and first.token
    second = store.search_registered_models(max_results=2, page_token=first.token)
    assert [m.name for m in second] == ["c"] and second.token is None
    with pytest.raises(InvalidParameterValue):
        store.search_registered_models(max_results=1001)


def test_search_registered_models_returns_aliases(store: SqlStore) -> None:
    store.create_registered_model("m")
    _version(store)
    store.set_registered_model_alias("m", "prod", "1")
    (found,) = store.search_registered_models()
    assert found.aliases == (RegisteredModelAlias("prod", "1"),)
    assert [v.version for v in found.latest_versions] == ["1"]


def test_search_model_versions(store: SqlStore) -> None:
    store.create_registered_model("a")
    store.create_registered_model("b")
    run_id, _ = _run_root(store)
    for name in ("a", "a", "b"):
        store.create_model_version(name, f"runs:/{run_id}/model", run_id)
    store.set_model_version_tag("a", "2", ModelVersionTag("k", "v"))
    store.set_registered_model_alias("a", "best", "2")

    def keys(filter_string: str | None, **kwargs: object) -> list[tuple[str, str]]:
        found = store.search_model_versions(filter_string, **kwargs)  # type: ignore[arg-type]
        return [(v.name, v.version) for v in found]

    assert keys("name = 'a'", order_by=["version_number"]) == [("a", "1"), ("a", "2")]
    assert keys("version_number > 1") == [("a", "2")]
    assert keys(f"run_id = '{run_id}' AND name = 'b'") == [("b", "1")]
    assert keys("source_path LIKE 'runs:/%'", order_by=["name DESC"])[0][0] == "b"
    assert keys("tags.k = 'v'") == [("a", "2")]
    assert keys("tags.k != 'v'", order_by=["name", "version_number"]) == [
        ("a", "1"),
        ("b", "1"),
    ]
    assert keys("name IN ('b')") == [("b", "1")]
    (best,) = store.search_model_versions("tags.k = 'v'")
    assert best.aliases == ("best",)
    page = store.search_model_versions(max_results=2)
    assert len(page) == 2 and page.token
    rest = store.search_model_versions(max_results=2, page_token=page.token)
    assert len(rest) == 1 and rest.token is None
    with pytest.raises(InvalidFilter):
        store.search_model_versions("current_stage = 'None'")


def test_concurrent_registrations_get_distinct_versions(store: SqlStore) -> None:
    store.create_registered_model("m")

    def register() -> None:
        for _ in range(5):
            store.create_model_version("m", "s3://bucket/model")

    threads = [threading.Thread(target=register) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions = sorted(int(v.version) for v in store.search_model_versions())
    assert versions == list(range(1, 16))
