from __future__ import annotations

from importlib.metadata import version

import pytest

from kiln.errors import InvalidParameterValue
from kiln.server.config import ServerConfig, normalize_static_prefix

from .conftest import ApiClient, MakeClient, assert_error


def test_health_is_plain_ok(client: ApiClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["content-type"].startswith("text/plain")


def test_version_is_kilns(client: ApiClient) -> None:
    assert client.get("/version").text == version("kiln-ml")


@pytest.mark.parametrize("api", ["/api", "/ajax-api"])
def test_server_info_describes_capabilities(client: ApiClient, api: str) -> None:
    response = client.get(f"{api}/3.0/mlflow/server-info")

    assert response.json() == {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "multipart_uploads_enabled": False,
        "artifact_serving_enabled": True,
        "artifacts_presigned_only": False,
    }


def test_server_info_without_artifact_serving(make_client: MakeClient) -> None:
    client = make_client(serve_artifacts=False)

    info = client.get("/api/3.0/mlflow/server-info").json()

    assert info["artifact_serving_enabled"] is False


def test_static_prefix_moves_every_route(make_client: MakeClient) -> None:
    client = make_client(static_prefix="/kiln/")

    health = client.get("/kiln/health")
    experiment = client.get(
        "/kiln/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}
    )
    upload = client.put("/kiln/api/2.0/mlflow-artifacts/artifacts/a.txt", content=b"1")
    unprefixed = client.get("/health")

    assert health.text == "OK"
    assert experiment.json()["experiment"]["name"] == "Default"
    assert upload.status_code == 200
    assert_error(unprefixed, 404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    ("prefix", "expected"), [(None, ""), ("", ""), ("/", ""), ("/a/b/", "/a/b")]
)
def test_normalize_static_prefix(prefix: str | None, expected: str) -> None:
    assert normalize_static_prefix(prefix) == expected


def test_static_prefix_must_be_absolute() -> None:
    with pytest.raises(InvalidParameterValue, match="'kiln'"):
        normalize_static_prefix("kiln")


def test_config_round_trips_through_the_environment() -> None:
    config = ServerConfig(
        backend_store_uri="postgresql://kiln@db/kiln",
        default_artifact_root="s3://bucket/root",
        artifacts_destination="/srv/artifacts",
        serve_artifacts=False,
        allowed_hosts=("kiln.example.com", "10.0.0.5:5000"),
        cors_allowed_origins=("https://app.example.com",),
        static_prefix="/kiln",
    )

    assert ServerConfig.from_env(config.to_env()) == config


def test_config_reads_mlflow_names_as_fallbacks() -> None:
    config = ServerConfig.from_env(
        {
            "MLFLOW_SERVER_ALLOWED_HOSTS": "a.example.com, b.example.com",
            "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": "https://ui.example.com",
        }
    )

    assert config.allowed_hosts == ("a.example.com", "b.example.com")
    assert config.cors_allowed_origins == ("https://ui.example.com",)
    assert config.serve_artifacts is True


@pytest.mark.parametrize(
    ("serve", "root", "expected"),
    [
        (True, None, "mlflow-artifacts:/"),
        (True, "s3://bucket/x", "s3://bucket/x"),
    ],
)
def test_default_artifact_root(serve: bool, root: str | None, expected: str) -> None:
    config = ServerConfig(serve_artifacts=serve, default_artifact_root=root)

    assert config.resolved_default_artifact_root() == expected


def test_default_artifact_root_without_proxy_is_the_destination_folder(
    tmp_path: object,
) -> None:
    config = ServerConfig(serve_artifacts=False, artifacts_destination="/srv/a")

    assert config.resolved_default_artifact_root() == "/srv/a"


def test_bad_boolean_in_environment_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="'maybe'"):
        ServerConfig.from_env({"KILN_SERVE_ARTIFACTS": "maybe"})
