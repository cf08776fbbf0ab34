"""Reading many registry rows at once: every version gets its own tags and
aliases, however the asked keys share names and version numbers."""

from __future__ import annotations

from kiln.entities import ModelVersionTag, RegisteredModelTag
from kiln.store.sql.store import SqlStore


def _register(store: SqlStore, name: str, versions: int) -> None:
    store.create_registered_model(name, [RegisteredModelTag("owner", name)])
    run = store.create_run("0", "u", 1, [], None)
    for number in range(1, versions + 1):
        tags = [ModelVersionTag("of", f"{name}/{number}")]
        if (name, number) in (("a", 1), ("b", 2)):
            tags.append(ModelVersionTag("pick", "y"))
        store.create_model_version(
            name, f"runs:/{run.info.run_id}/model", run.info.run_id, tags
        )


def test_keys_crossing_names_and_numbers_load_only_their_rows(
    store: SqlStore,
) -> None:
    _register(store, "a", 2)
    _register(store, "b", 2)
    store.set_registered_model_alias("a", "one", "1")
    store.set_registered_model_alias("a", "two", "2")
    store.set_registered_model_alias("b", "two", "2")

    found = store.search_model_versions("tags.pick = 'y'")

    assert sorted((v.name, v.version) for v in found) == [("a", "1"), ("b", "2")]
    for version in found:
        assert version.tags == {"of": f"{version.name}/{version.version}", "pick": "y"}
    by_key = {(v.name, v.version): v.aliases for v in found}
    assert by_key == {("a", "1"): ("one",), ("b", "2"): ("two",)}


def test_many_version_numbers_of_one_model_load_each_own_tags(
    store: SqlStore,
) -> None:
    _register(store, "many", 12)
    store.set_registered_model_alias("many", "best", "11")
    store.transition_model_version_stage("many", "3", "Production")
    store.transition_model_version_stage("many", "7", "Staging")

    found = store.search_model_versions("name = 'many'")

    assert sorted(int(v.version) for v in found) == list(range(1, 13))
    assert all(v.tags == {"of": f"many/{v.version}"} for v in found)
    assert [v.version for v in found if v.aliases] == ["11"]
    latest = store.get_latest_versions("many")
    assert [(v.current_stage, v.version) for v in latest] == [
        ("None", "12"),
        ("Staging", "7"),
        ("Production", "3"),
    ]
    assert [v.version for v in store.get_latest_versions("many", ["Staging"])] == ["7"]


def test_model_search_pages_carry_each_models_own_latest_versions(
    store: SqlStore,
) -> None:
    for name, versions in (("a", 2), ("b", 3), ("c", 1)):
        _register(store, name, versions)
    store.transition_model_version_stage("b", "1", "Production")
    store.set_registered_model_alias("b", "champion", "1")

    models = store.search_registered_models(max_results=2)
    rest = store.search_registered_models(max_results=2, page_token=models.token)

    assert [m.name for m in models] == ["a", "b"] and [m.name for m in rest] == ["c"]
    latest = {
        m.name: [(v.current_stage, v.version, v.tags["of"]) for v in m.latest_versions]
        for m in [*models, *rest]
    }
    assert latest == {
        "a": [("None", "2", "a/2")],
        "b": [("None", "3", "b/3"), ("Production", "1", "b/1")],
        "c": [("None", "1", "c/1")],
    }
    b = store.get_model_version_by_alias("b", "champion")
    assert (b.version, b.aliases, b.tags) == ("1", ("champion",), {"of": "b/1"})
    assert store.get_model_version_by_alias("b", "latest").version == "3"
    assert all(m.tags == {"owner": m.name} for m in [*models, *rest])
