"""Hostile artifact paths: nothing outside the artifact root is read, written
or deleted, however the path is spelled or encoded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import ApiClient, send_raw

SECRET = b"top secret"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"

# Paths as they arrive in the ASGI scope, that is after the server's one
# percent-decoding; each would reach ``secret.txt`` next to the root.
HOSTILE_PATHS = [
    "../secret.txt",
    "a/../../secret.txt",
    "%2e%2e/secret.txt",
    "%252e%252e/secret.txt",
    "..%2fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "..\\secret.txt",
    "..%5csecret.txt",
    "/{outside}/secret.txt",
    "link/secret.txt",
    "secret.txt\x00.png",
    "C:/secret.txt",
]


@pytest.fixture
def outside(tmp_path: Path, artifacts_root: Path) -> Path:
    """A folder next to the root holding a sentinel file, linked from inside it."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (artifacts_root / "link").symlink_to(tmp_path, target_is_directory=True)
    (artifacts_root / "inside.txt").write_bytes(b"ok")
    return tmp_path


def _snapshot(folder: Path) -> dict[str, bytes]:
    found = {}
    for dirpath, _dirs, files in os.walk(folder):
        if "artifacts" in Path(dirpath).relative_to(folder).parts:
            continue
        for name in files:
            path = Path(dirpath, name)
            if path.suffix not in (".db", ".db-wal", ".db-shm"):
                found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def _expand(path: str, outside: Path) -> str:
    return path.replace("{outside}", str(outside).lstrip("/"))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("hostile", HOSTILE_PATHS)
def test_proxy_refuses_paths_leaving_the_root(
    client: ApiClient, outside: Path, method: str, hostile: str
) -> None:
    before = _snapshot(outside)

    status, body = send_raw(
        client.app,
        method,
        f"{PROXY}/{_expand(hostile, outside)}",
        body=b"overwritten",
    )

    assert status in (400, 404), body
    assert SECRET not in body
    assert _snapshot(outside) == before
    assert (outside / "secret.txt").read_bytes() == SECRET


@pytest.mark.parametrize("hostile", [*HOSTILE_PATHS, "..", "link", "/"])
def test_proxy_listing_refuses_paths_leaving_the_root(
    client: ApiClient, outside: Path, hostile: str
) -> None:
    response = client.get(PROXY, params={"path": _expand(hostile, outside)})

    assert response.status_code in (200, 400)
    assert "files" not in response.json()


def test_link_itself_is_not_followed_by_delete(
    client: ApiClient, outside: Path
) -> None:
    send_raw(client.app, "DELETE", f"{PROXY}/link")

    assert (outside / "secret.txt").read_bytes() == SECRET


def test_inside_file_is_still_served(client: ApiClient, outside: Path) -> None:
    assert client.get(f"{PROXY}/inside.txt").content == b"ok"


def test_error_messages_do_not_reveal_the_root(
    client: ApiClient, outside: Path, artifacts_root: Path
) -> None:
    status, body = send_raw(client.app, "GET", f"{PROXY}/../secret.txt")

    assert status == 400
    assert str(artifacts_root).encode() not in body
