"""Every path-traversal class is refused, and nothing outside the root changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiln.artifacts.local import LocalRepository
from kiln.errors import InvalidParameterValue


@dataclass
class Setup:
    repo: LocalRepository
    outside: Path
    sentinel: Path
    source: Path
    download_to: Path

    def snapshot(self) -> dict[str, bytes]:
        return {
            path.relative_to(self.outside).as_posix(): path.read_bytes()
            for path in sorted(self.outside.rglob("*"))
            if path.is_file()
        }


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_text("keep me")

    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.txt").write_text("fine")
    (root / "link-file").symlink_to(sentinel)
    (root / "link-dir").symlink_to(outside)

    # A local file named like the sentinel, which an attack would write over it.
    source = tmp_path / "src" / "sentinel.txt"
    source.parent.mkdir()
    source.write_text("overwritten")

    state = Setup(
        LocalRepository(str(root)), outside, sentinel, source, tmp_path / "dl"
    )
    before = state.snapshot()
    yield state
    assert state.snapshot() == before
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel.txt"]
    assert not state.download_to.exists() or not any(state.download_to.rglob("*"))


def _to_sentinel(setup: Setup) -> list[str]:
    """One path per traversal class, each aiming at the sentinel file."""
    return [
        "../outside/sentinel.txt",
        "%2e%2e/outside/sentinel.txt",
        "%2E%2E%2Foutside%2Fsentinel.txt",
        "%252e%252e/outside/sentinel.txt",
        "%252e%252e%252foutside%252fsentinel.txt",
        str(setup.sentinel),
        setup.sentinel.as_uri(),
        "..\\outside\\sentinel.txt",
        "%5c..%5coutside%5csentinel.txt",
        "../outside/sentinel.txt\x00.png",
        "inside.txt%00/../../outside/sentinel.txt",
        "link-file",
        "link-dir/sentinel.txt",
    ]


def _to_outside_folder(setup: Setup) -> list[str]:
    """One folder path per traversal class, each aiming at the outside folder."""
    return [
        "..",
        "../outside",
        "%2e%2e/outside",
        "%252e%252e/outside",
        str(setup.outside),
        "..\\outside",
        "x\x00/../../outside",
        "link-dir",
        "link-dir/new-sub",
    ]


CASES = range(13)
FOLDER_CASES = range(9)


@pytest.mark.parametrize("case", CASES)
def test_download_refuses_traversal(setup: Setup, case: int) -> None:
    path = _to_sentinel(setup)[case]
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        setup.repo.download_artifacts(path, setup.download_to)


@pytest.mark.parametrize("case", CASES)
def test_delete_refuses_traversal(setup: Setup, case: int) -> None:
    path = _to_sentinel(setup)[case]
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        setup.repo.delete_artifacts(path)


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_list_refuses_traversal(setup: Setup, case: int) -> None:
    path = _to_outside_folder(setup)[case]
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        setup.repo.list_artifacts(path)


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_log_artifact_refuses_traversal(setup: Setup, case: int) -> None:
    path = _to_outside_folder(setup)[case]
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        setup.repo.log_artifact(setup.source, path)


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_log_artifacts_refuses_traversal(setup: Setup, case: int) -> None:
    path = _to_outside_folder(setup)[case]
    with pytest.raises(InvalidParameterValue, match="Invalid artifact path"):
        setup.repo.log_artifacts(setup.source.parent, path)


def test_log_artifact_refuses_writing_through_a_link_to_a_file(
    setup: Setup, tmp_path: Path
) -> None:
    named_like_link = tmp_path / "other" / "link-file"
    named_like_link.parent.mkdir()
    named_like_link.write_text("overwritten")
    with pytest.raises(InvalidParameterValue, match="outside the artifact root"):
        setup.repo.log_artifact(named_like_link)


def test_log_artifacts_refuses_a_source_tree_landing_on_a_link(
    setup: Setup, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    (tree / "link-dir").mkdir(parents=True)
    (tree / "link-dir" / "sentinel.txt").write_text("overwritten")
    with pytest.raises(InvalidParameterValue, match="outside the artifact root"):
        setup.repo.log_artifacts(tree)


def test_listing_hides_links_leading_out(setup: Setup) -> None:
    assert [info.path for info in setup.repo.list_artifacts()] == ["inside.txt"]


def test_folder_download_refuses_links_leading_out(setup: Setup) -> None:
    with pytest.raises(InvalidParameterValue, match="links outside the artifact root"):
        setup.repo.download_artifacts("", setup.download_to / "whole")
    assert not (setup.download_to / "whole").exists()


def test_delete_everything_leaves_link_targets_alone(setup: Setup) -> None:
    setup.repo.delete_artifacts()
    assert not setup.repo.root.exists()
