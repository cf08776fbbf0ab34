"""The registry's history, rollback and reasons through KilnClient and the
REST store, against a running ``kiln server`` and MLflow's server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server.processes import running_server

# Session-wide stock MLflow and Kiln servers, shared with the other live tests.
from test_rest_live_servers import Server
from test_rest_live_servers import server as server

from kiln.errors import InvalidParameterValue, NotImplementedFeature
from kiln.store.rest import RestConfig, RestStore
from kiln.tracking.client import KilnClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[KilnClient]:
    config = RestConfig(max_retries=0, username="ada", password="secret")
    with RestStore(base_url, config) as rest:
        yield KilnClient(base_url, store=rest)


def _model(client: KilnClient, name: str, versions: int = 3) -> None:
    client.create_registered_model(name)
    for _ in range(versions):
        client.create_model_version(name, "s3://bucket/model")


def test_reasons_and_the_basic_user_round_trip(client: KilnClient) -> None:
    _model(client, "reasons", versions=2)
    client.set_registered_model_alias("reasons", "champion", 1)
    client.set_registered_model_alias("reasons", "champion", 2, reason="Best AUC")
    moved = client.transition_model_version_stage(
        "reasons", 2, "Production", reason="Ship it"
    )

    history = client.get_registry_history("reasons")

    assert moved.current_stage == "Production"
    assert [(e.kind, e.reason) for e in history] == [
        ("stage", "Ship it"),
        ("alias", "Best AUC"),
        ("alias", None),
    ]
    # The server records the request's user, not the client's login name.
    assert {e.user_id for e in history} == {"ada"}
    assert client.get_registered_model("reasons").user_id == "ada"
    assert client.get_model_version("reasons", 1).user_id == "ada"


def test_rollback_after_two_moves_and_with_nothing_before(
    client: KilnClient,
) -> None:
    _model(client, "rollback")
    for version in (1, 2, 3):
        client.set_registered_model_alias("rollback", "champion", version)

    back = client.rollback_alias("rollback", "champion", reason="Drift")

    assert back.version == "2" and back.aliases == ("champion",)
    newest = client.get_registry_history("rollback", alias="champion")[0]
    assert (newest.previous_version, newest.version, newest.reason) == (
        "3",
        "2",
        "Drift",
    )
    client.set_registered_model_alias("rollback", "fresh", 1)
    with pytest.raises(InvalidParameterValue, match="no earlier version"):
        client.rollback_alias("rollback", "fresh")


def test_history_pages_and_filters(client: KilnClient) -> None:
    _model(client, "pages")
    for version in (1, 2, 3):
        client.set_registered_model_alias("pages", "champion", version)
    client.transition_model_version_stage("pages", 3, "Staging")

    first = client.get_registry_history("pages", max_results=3)
    rest = client.get_registry_history("pages", max_results=3, page_token=first.token)

    assert [e.kind for e in first] == ["stage", "alias", "alias"]
    assert [(e.alias, e.version) for e in rest] == [("champion", "1")]
    assert rest.token is None
    stages = client.get_registry_history("pages", kind="stage")
    assert [(e.version, e.stage) for e in stages] == [("3", "Staging")]


def test_history_follows_a_rename_and_goes_with_the_model(
    client: KilnClient,
) -> None:
    _model(client, "before", versions=1)
    client.set_registered_model_alias("before", "champion", 1)
    client.rename_registered_model("before", "after")

    assert [e.name for e in client.get_registry_history("after")] == ["after"]
    client.delete_registered_model("after")
    _model(client, "after", versions=1)
    assert client.get_registry_history("after") == []


def test_kiln_only_calls_say_so_against_mlflow(server: Server) -> None:
    name = f"kiln-only-{server.kind}"
    with RestStore(server.url, RestConfig(max_retries=0)) as rest:
        rest.create_registered_model(name)
        for version in ("1", "2"):
            rest.create_model_version(name, "s3://bucket/model")
            rest.set_registered_model_alias(name, "champion", version)
        calls = [
            lambda: rest.get_registry_history(name),
            lambda: rest.rollback_alias(name, "champion"),
            lambda: rest.set_registered_model_alias(name, "a", "1", reason="r"),
            lambda: rest.transition_model_version_stage(
                name, "1", "Staging", reason="r"
            ),
        ]
        try:
            for call in calls:
                if server.kind == "kiln":
                    call()
                    continue
                with pytest.raises(NotImplementedFeature, match="Kiln server"):
                    call()
        finally:
            rest.delete_registered_model(name)
