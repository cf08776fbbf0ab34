"""A version that names a run or logged model must take its files from there,
whatever the source's scheme: ``s3://``, ``https://`` and ``mlflow-artifacts:``
sources are held to the same artifact root as local ones."""

from __future__ import annotations

import pytest

from kiln.errors import InvalidParameterValue
from kiln.store.sql.store import SqlStore


def _run_under(store: SqlStore, location: str) -> tuple[str, str]:
    """A run of a new experiment stored at ``location``: (run id, its root)."""
    experiment_id = store.create_experiment(f"at {location}", location)
    run = store.create_run(experiment_id, "u", 1, [], None)
    return run.info.run_id, run.info.artifact_uri


def _versions(store: SqlStore) -> list[str]:
    return [version.source for version in store.search_model_versions()]


@pytest.mark.parametrize(
    ("location", "sources"),
    [
        (
            "s3://bucket/exp",
            [
                "{root}",
                "{root}/model",
                "{root}/model/",
                "S3://bucket/exp/{run}/artifacts/model",
                "{root}/my%20model",
            ],
        ),
        (
            "https://Store.example:443/exp",
            [
                "{root}/model",
                "https://store.example/exp/{run}/artifacts/model",
                "HTTPS://STORE.EXAMPLE:443/exp/{run}/artifacts/model",
            ],
        ),
        (
            "mlflow-artifacts:/exp",
            [
                "{root}/model",
                "mlflow-artifacts://kiln.example:5000/exp/{run}/artifacts/model",
            ],
        ),
    ],
)
def test_remote_sources_under_the_run_root_are_accepted(
    store: SqlStore, location: str, sources: list[str]
) -> None:
    store.create_registered_model("m")
    run_id, root = _run_under(store, location)
    expected = [source.format(root=root, run=run_id) for source in sources]

    for source in expected:
        store.create_model_version("m", source, run_id)

    assert sorted(_versions(store)) == sorted(expected)


@pytest.mark.parametrize(
    "source",
    [
        "s3://bucket/exp/{other}/artifacts/model",
        "s3://other-bucket/exp/{run}/artifacts/model",
        "s3://bucket/exp/{run}/artifacts-copy/model",
        "s3://bucket/exp/{run}",
        "s3://bucket//exp/{run}/artifacts/model",
        "s3://bucket/exp/{run}/artifacts/%2e%2e/%2e%2e/{other}/artifacts",
        "s3://bucket/exp/{run}/artifacts/%252e%252e/x",
        "s3://bucket/exp/{run}/artifact%73/model",
        "s3://bucket/exp/{run}%2Fartifacts/model",
        "s3://bucket/exp/{run}/artifacts/model?versionId=1",
        "s3://bucket/exp/{run}/artifacts/model#x",
        "gs://bucket/exp/{run}/artifacts/model",
        "https://bucket/exp/{run}/artifacts/model",
        "mlflow-artifacts:/exp/{run}/artifacts/model",
        "/exp/{run}/artifacts/model",
    ],
)
def test_remote_sources_outside_the_run_root_are_refused(
    store: SqlStore, source: str
) -> None:
    store.create_registered_model("m")
    run_id, _ = _run_under(store, "s3://bucket/exp")
    other, _ = _run_under(store, "s3://bucket/exp-2")
    text = source.format(run=run_id, other=other)

    with pytest.raises(InvalidParameterValue):
        store.create_model_version("m", text, run_id)

    assert _versions(store) == []


@pytest.mark.parametrize(
    "source",
    [
        "https://store.example:8443/exp/{run}/artifacts/model",
        "http://store.example/exp/{run}/artifacts/model",
        "https://someone@store.example/exp/{run}/artifacts/model",
        "https://store.example.evil/exp/{run}/artifacts/model",
        "https://store.example:port/exp/{run}/artifacts/model",
    ],
)
def test_http_sources_must_name_the_roots_server(store: SqlStore, source: str) -> None:
    store.create_registered_model("m")
    run_id, _ = _run_under(store, "https://store.example/exp")

    with pytest.raises(InvalidParameterValue):
        store.create_model_version("m", source.format(run=run_id), run_id)


def test_a_logged_model_root_counts_when_the_model_is_named(store: SqlStore) -> None:
    store.create_registered_model("m")
    run_id, root = _run_under(store, "s3://bucket/exp")
    experiment_id = store.get_run(run_id).info.experiment_id
    logged = store.create_logged_model(experiment_id, "lm", source_run_id=run_id)
    in_model = f"{logged.artifact_location}/MLmodel"

    store.create_model_version("m", in_model, run_id, model_id=logged.model_id)
    store.create_model_version("m", f"{root}/model", run_id, model_id=logged.model_id)
    with pytest.raises(InvalidParameterValue):
        store.create_model_version("m", in_model, run_id)
    with pytest.raises(InvalidParameterValue):
        store.create_model_version(
            "m", "s3://bucket/elsewhere/model", model_id=logged.model_id
        )

    assert sorted(_versions(store)) == sorted([in_model, f"{root}/model"])


def test_remote_source_without_run_or_model_is_taken_as_given(
    store: SqlStore,
) -> None:
    store.create_registered_model("m")

    version = store.create_model_version("m", "s3://anywhere/model")

    assert version.source == "s3://anywhere/model"
    assert store.get_model_version_download_uri("m", "1") == "s3://anywhere/model"
