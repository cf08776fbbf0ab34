from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.artifacts.paths import (
    join_safely,
    local_path_from_uri,
    normalize_artifact_path,
)
from kiln.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        (".", ""),
        ("model", "model"),
        ("model/", "model"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("./a/./b", "a/b"),
        ("my%20plots/loss.png", "my plots/loss.png"),
        ("100%.txt", "100%.txt"),
        ("a..b/c...", "a..b/c..."),
        ("colon:inside", "colon:inside"),
        ("caf%C3%A9", "café"),
    ],
)
def test_normalize_accepts_relative_paths(raw: str | None, expected: str) -> None:
    assert normalize_artifact_path(raw) == expected


TRAVERSALS = [
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "%252e%252e/x",
    "%25252e%25252e%25252fx",
    "..%2fx",
    "..%252fx",
    "/etc/passwd",
    "%2fetc/passwd",
    "%252fetc%252fpasswd",
    "//etc/passwd",
    "C:/Windows",
    "c:x",
    "a/D:/x",
    "..\\x",
    "a\\b",
    "%5c..%5cx",
    "%255c..",
    "a#b",
    "a%23b",
    "a?b",
    "a%3fb",
    "a;b",
    "a%3Bb",
    "a\x00b",
    "a%00b",
    "a%2500b",
    "a\nb",
    "a%0db",
    "a%7f",
    "a//b",
    "a/%2f/b",
    "%c0%ae%c0%ae/x",
    "%2525252e%2525252e/x",
]


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_normalize_refuses_traversal_and_tricks(raw: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        normalize_artifact_path(raw)
    assert repr(raw) in str(info.value)


def test_normalize_refuses_non_strings() -> None:
    with pytest.raises(InvalidParameterValue, match="b'x'"):
        normalize_artifact_path(b"x")  # type: ignore[arg-type]


def test_join_places_path_under_real_root(tmp_path: Path) -> None:
    assert join_safely(tmp_path, "a/b") == Path(os.path.realpath(tmp_path), "a", "b")
    assert join_safely(tmp_path, None) == Path(os.path.realpath(tmp_path))


@pytest.mark.parametrize("raw", ["../outside", "%2e%2e/outside", "%252e%252e/x"])
def test_join_refuses_traversal(tmp_path: Path, raw: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        join_safely(tmp_path / "root", raw)


def test_join_refuses_link_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "escape").symlink_to(tmp_path / "outside")
    (root / "passwd").symlink_to("/etc/passwd")

    for raw in ["escape", "escape/file", "escape/new/deeper", "passwd"]:
        with pytest.raises(InvalidParameterValue, match="outside the artifact root"):
            join_safely(root, raw)


def test_join_accepts_link_inside_root(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    located = join_safely(tmp_path, "alias/f.txt")
    assert located == Path(os.path.realpath(tmp_path), "alias", "f.txt")


def test_join_follows_a_root_that_is_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "root-link").symlink_to(tmp_path / "real")
    located = join_safely(tmp_path / "root-link", "x")
    assert located == Path(os.path.realpath(tmp_path / "real"), "x")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("file:///srv/kiln/artifacts", "/srv/kiln/artifacts"),
        ("file:/srv/kiln", "/srv/kiln"),
        ("file://localhost/srv/kiln", "/srv/kiln"),
        ("FILE:///srv/kiln", "/srv/kiln"),
        ("file:///srv/my%20runs", "/srv/my runs"),
        ("/srv/kiln", "/srv/kiln"),
        ("/srv/kiln/../other", "/srv/other"),
    ],
)
def test_local_path_from_uri_accepts_local_roots(uri: str, expected: str) -> None:
    assert local_path_from_uri(uri) == Path(expected)


def test_local_path_from_uri_makes_relative_paths_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert local_path_from_uri("kiln-data/artifacts") == Path(
        os.path.abspath("kiln-data/artifacts")
    )


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "file://./x",
        "file://../x",
        "file://evil.example.com/srv/x",
        "file://127.0.0.1/srv/x",
        "file:x",
        "file:relative/path",
        "file:////proc/self/environ",
        "file://localhost",
        "file:///srv/kiln/../../etc",
        "file:///srv/%2e%2e/etc",
        "file:///srv/x?y=1",
        "file:///srv/x#frag",
        "file:///srv/x%00y",
        "/srv/x\x00y",
        "file:///srv/%ff",
    ],
)
def test_local_path_from_uri_refuses_tricks(uri: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        local_path_from_uri(uri)
    assert repr(uri) in str(info.value)


_TRICKY_TEXT = st.text(
    alphabet=st.sampled_from(list("./\\%25eEfF0acC:;#?\x00 ~")), max_size=24
)


@given(_TRICKY_TEXT)
def test_normalize_never_returns_a_path_that_climbs(raw: str) -> None:
    try:
        clean = normalize_artifact_path(raw)
    except InvalidParameterValue:
        return
    segments = clean.split("/")
    assert ".." not in segments
    assert not clean.startswith("/")
    assert "" not in segments or clean == ""
    assert normalize_artifact_path(clean.replace("%", "%25")) == clean


@given(_TRICKY_TEXT)
def test_join_never_leaves_the_root(raw: str) -> None:
    root = Path("/kiln-root-that-does-not-exist")
    try:
        located = join_safely(root, raw)
    except InvalidParameterValue:
        return
    assert located == root or located.is_relative_to(root)
