"""Promotion rules through KilnClient and the REST store, against a running
``kiln server`` and MLflow's server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server.processes import running_server

# Session-wide stock MLflow and Kiln servers, shared with the other live tests.
from test_rest_live_servers import Server
from test_rest_live_servers import server as server

from kiln.errors import (
    InvalidParameterValue,
    NotImplementedFeature,
    ResourceDoesNotExist,
)
from kiln.store.base import PromotionRuleStore
from kiln.store.rest import RestConfig, RestStore
from kiln.tracking.client import KilnClient

pytestmark = pytest.mark.slow

RULE = "metrics.val_auc >= 0.9 AND metrics.val_auc >= current.metrics.val_auc"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[KilnClient]:
    config = RestConfig(max_retries=0, username="ada", password="secret")
    with RestStore(base_url, config) as rest:
        yield KilnClient(base_url, store=rest)


def _version(client: KilnClient, name: str, val_auc: float) -> str:
    run = client.create_run("0")
    client.log_metric(run.info.run_id, "val_auc", val_auc)
    source = f"runs:/{run.info.run_id}/model"
    return client.create_model_version(name, source, run.info.run_id).version


def test_the_rest_store_offers_promotion_rules(base_url: str) -> None:
    with RestStore(base_url) as rest:
        assert isinstance(rest, PromotionRuleStore)


def test_rules_round_trip_with_the_basic_user(client: KilnClient) -> None:
    client.create_registered_model("round-trip")
    stored = client.set_promotion_rule("round-trip", "champion", RULE)
    assert (stored.name, stored.alias, stored.rule) == ("round-trip", "champion", RULE)
    # The server records the request's user, not the client's login name.
    assert stored.user_id == "ada" and stored.creation_timestamp > 0
    assert client.get_promotion_rule("round-trip", "champion") == stored
    assert client.list_promotion_rules("round-trip") == [stored]

    client.delete_promotion_rule("round-trip", "champion")
    client.delete_promotion_rule("round-trip", "champion")
    assert client.list_promotion_rules("round-trip") == []
    with pytest.raises(ResourceDoesNotExist):
        client.get_promotion_rule("round-trip", "champion")
    with pytest.raises(ResourceDoesNotExist):
        client.list_promotion_rules("no-such-model")


def test_bad_rules_are_refused_through_the_server(client: KilnClient) -> None:
    client.create_registered_model("bad-rules")
    with pytest.raises(InvalidParameterValue, match="position 0") as caught:
        client.set_promotion_rule("bad-rules", "champion", "current.metrics.a > 1")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_alias_moves_are_held_to_the_rule(client: KilnClient) -> None:
    client.create_registered_model("held")
    client.set_promotion_rule("held", "champion", RULE)
    for val_auc in (0.92, 0.91, 0.95):
        _version(client, "held", val_auc)

    client.set_registered_model_alias("held", "champion", 1)
    with pytest.raises(InvalidParameterValue, match="the current holder, version 1"):
        client.set_registered_model_alias("held", "champion", 2)
    client.set_registered_model_alias("held", "champion", 3)
    with pytest.raises(InvalidParameterValue, match=r"has val_auc = 0\.92, and"):
        client.rollback_alias("held", "champion")
    assert client.get_model_version_by_alias("held", "champion").version == "3"


def test_promotion_rules_say_so_against_mlflow(server: Server) -> None:
    name = f"rules-{server.kind}"
    with RestStore(server.url, RestConfig(max_retries=0)) as rest:
        rest.create_registered_model(name)
        calls = [
            lambda: rest.set_promotion_rule(name, "champion", "metrics.a > 1"),
            lambda: rest.list_promotion_rules(name),
            lambda: rest.delete_promotion_rule(name, "champion"),
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
