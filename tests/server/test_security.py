"""Host allow-list, CSRF guards, CORS, body limits, headers and error hygiene."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.entities import Experiment
from kiln.errors import KilnError, StorageUnavailable
from kiln.server.security import split_host

from .conftest import API, ApiClient, MakeClient, assert_error, send_raw

CREATE = f"{API}/experiments/create"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", ("localhost", None)),
        ("LOCALHOST:5000", ("localhost", "5000")),
        ("[::1]:8080", ("[::1]", "8080")),
        ("::1", ("[::1]", None)),
        ("kiln.example.com", ("kiln.example.com", None)),
    ],
)
def test_split_host(host: str, expected: tuple[str, str | None]) -> None:
    assert split_host(host) == expected


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5000", "127.0.0.1:80", "[::1]:5000"]
)
def test_loopback_hosts_are_allowed(client: ApiClient, host: str) -> None:
    response = client.get("/version", headers={"Host": host})

    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example.com", "localhost.evil.com", ""])
def test_other_hosts_are_refused_403(client: ApiClient, host: str) -> None:
    status, body = send_raw(client.app, "GET", "/version", headers={"host": host})

    assert status == 403
    assert b"PERMISSION_DENIED" in body


def test_health_answers_probes_by_ip_address(client: ApiClient) -> None:
    status, body = send_raw(client.app, "GET", "/health", headers={"host": "10.1.2.3"})
    api, _ = send_raw(
        client.app,
        "GET",
        "/api/2.0/mlflow/experiments/get",
        query="experiment_id=0",
        headers={"host": "10.1.2.3"},
    )

    assert (status, body) == (200, b"OK")
    assert api == 403


@pytest.mark.parametrize(
    ("allowed", "host", "status"),
    [
        (["kiln.example.com"], "kiln.example.com:443", 200),
        (["kiln.example.com:8080"], "kiln.example.com:8080", 200),
        (["kiln.example.com:8080"], "kiln.example.com:9090", 403),
        (["*.example.com"], "a.example.com", 200),
        (["*.example.com"], "example.org", 403),
        (["*"], "anything.at.all", 200),
    ],
)
def test_configured_hosts(
    make_client: MakeClient, allowed: list[str], host: str, status: int
) -> None:
    client = make_client(allowed_hosts=allowed)

    response = client.get("/version", headers={"Host": host})

    assert response.status_code == status


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded"]
)
def test_writes_need_json_content_type(
    client: ApiClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = client.post(CREATE, content=b'{"name": "csrf"}', headers=headers)

    body = assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert "Content-Type" in body["message"]
    assert (
        client.get(
            f"{API}/experiments/get-by-name", params={"experiment_name": "csrf"}
        ).status_code
        == 404
    )


def test_json_content_type_with_charset_is_accepted(client: ApiClient) -> None:
    response = client.post(
        CREATE,
        content=b'{"name": "charset"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 200


def test_artifact_put_needs_no_json_content_type(client: ApiClient) -> None:
    response = client.put(
        "/api/2.0/mlflow-artifacts/artifacts/a.txt",
        content=b"x",
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3000", "http://127.0.0.1:5000", "http://localhost:5000"],
)
def test_writes_from_local_origins_are_allowed(client: ApiClient, origin: str) -> None:
    response = client.post(CREATE, json={"name": "local"}, headers={"Origin": origin})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null"])
def test_writes_from_other_origins_are_refused(client: ApiClient, origin: str) -> None:
    response = client.post(CREATE, json={"name": "x"}, headers={"Origin": origin})

    assert_error(response, 403, "PERMISSION_DENIED")


def test_artifact_put_from_other_origin_is_refused(client: ApiClient) -> None:
    response = client.put(
        "/api/2.0/mlflow-artifacts/artifacts/a.txt",
        content=b"x",
        headers={"Origin": "https://evil.example.com"},
    )

    assert_error(response, 403, "PERMISSION_DENIED")


def test_configured_origin_may_write_and_read(make_client: MakeClient) -> None:
    client = make_client(cors_allowed_origins=["https://app.example.com"])
    origin = {"Origin": "https://app.example.com"}

    written = client.post(CREATE, json={"name": "cors"}, headers=origin)
    read = client.get("/health", headers=origin)

    assert written.status_code == 200
    assert read.headers["access-control-allow-origin"] == "https://app.example.com"
    assert read.headers["vary"] == "Origin"


def test_reads_from_other_origins_get_no_cors_headers(client: ApiClient) -> None:
    response = client.get("/health", headers={"Origin": "https://evil.example.com"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_preflight_for_allowed_origin(client: ApiClient) -> None:
    response = client.request(
        "OPTIONS",
        CREATE,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type"


def test_preflight_for_other_origin_is_refused(client: ApiClient) -> None:
    response = client.request(
        "OPTIONS",
        CREATE,
        headers={
            "Origin": "https://evil.example.com",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_oversized_json_body_is_413(client: ApiClient) -> None:
    body = b'{"name": "' + b"x" * (1024 * 1024 + 1) + b'"}'

    response = client.post(
        CREATE, content=body, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 413, "BAD_REQUEST")


def test_oversized_body_without_content_length_is_413(client: ApiClient) -> None:
    async def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        CREATE, content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert_error(response, 413, "BAD_REQUEST")


def test_invalid_json_is_400(client: ApiClient) -> None:
    response = client.post(
        CREATE, content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    "path", ["/health", f"{API}/experiments/get?experiment_id=0", "/nope"]
)
def test_every_response_carries_security_headers(client: ApiClient, path: str) -> None:
    response = client.get(path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_unknown_route_is_json_404(client: ApiClient) -> None:
    response = client.get(f"{API}/no-such-endpoint")

    assert_error(response, 404, "ENDPOINT_NOT_FOUND")


def test_wrong_method_is_405(client: ApiClient) -> None:
    response = client.get(CREATE)

    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["message"]


class _BrokenStore:
    """A store whose reads fail the way a driver bug would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_experiment(self, experiment_id: str) -> Experiment:
        raise self.error


def test_unexpected_errors_are_generic_500_and_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    error = RuntimeError("SELECT secret FROM experiments at /srv/kiln/kiln.db")
    client = make_client(store=_BrokenStore(error))

    response = client.get(f"{API}/experiments/get", params={"experiment_id": "1"})

    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "SELECT" not in response.text and "/srv/kiln" not in response.text
    assert "Traceback" not in body["message"]
    records = [r for r in caplog.records if r.exc_info]
    assert len(records) == 1
    assert "SELECT secret" in str(records[0].exc_info[1])  # type: ignore[index]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            KilnError("The database at 'sqlite:////srv/kiln.db' failed."),
            500,
            "INTERNAL_ERROR",
        ),
        (
            StorageUnavailable("The database at 'sqlite:////srv/kiln.db' is locked."),
            503,
            "TEMPORARILY_UNAVAILABLE",
        ),
    ],
)
def test_store_failures_do_not_reveal_the_database(
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    error: KilnError,
    status: int,
    code: str,
) -> None:
    client = make_client(store=_BrokenStore(error))

    response = client.get(f"{API}/experiments/get", params={"experiment_id": "1"})

    assert_error(response, status, code)
    assert "/srv" not in response.text
    assert any("/srv/kiln.db" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest",
        "https://example.com/artifacts",
        "ftp://example.com/x",
        "/etc",
        "file:///etc",
        "file://otherhost/srv",
        "file://./relative",
        "mlflow-artifacts://evil.example.com/1",
        "mlflow-artifacts:/../../etc",
        "s3://someone-elses-bucket/x",
    ],
)
def test_experiment_locations_outside_roots_are_refused(
    client: ApiClient, location: str
) -> None:
    response = client.post(CREATE, json={"name": "loc", "artifact_location": location})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_experiment_locations_inside_roots_are_accepted(
    client: ApiClient, artifacts_root: Any
) -> None:
    for name, location in [
        ("proxy", "mlflow-artifacts:/custom/place"),
        ("path", str(artifacts_root / "mine")),
        ("uri", f"file://{artifacts_root}/other"),
    ]:
        response = client.post(
            CREATE, json={"name": name, "artifact_location": location}
        )
        assert response.status_code == 200, response.text


def test_s3_location_under_configured_root_is_accepted(make_client: MakeClient) -> None:
    client = make_client(default_artifact_root="s3://team-bucket/kiln")

    inside = client.post(
        CREATE, json={"name": "a", "artifact_location": "s3://team-bucket/kiln/a"}
    )
    sibling = client.post(
        CREATE, json={"name": "b", "artifact_location": "s3://team-bucket/kilnx"}
    )

    assert inside.status_code == 200
    assert_error(sibling, 400, "INVALID_PARAMETER_VALUE")
