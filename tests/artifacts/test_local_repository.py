from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiln.artifacts.local import LocalRepository
from kiln.entities import FileInfo
from kiln.errors import InvalidParameterValue, ResourceDoesNotExist


@pytest.fixture
def repo(tmp_path: Path) -> LocalRepository:
    return LocalRepository((tmp_path / "root").as_uri())


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tree(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_log_artifact_then_download_round_trips(
    repo: LocalRepository, tmp_path: Path
) -> None:
    source = _write(tmp_path / "src" / "notes.txt", "hello")
    repo.log_artifact(source, "docs/text")

    landed = repo.download_artifacts("docs/text/notes.txt", tmp_path / "dst")

    assert landed == str(tmp_path / "dst" / "docs" / "text" / "notes.txt")
    assert Path(landed).read_text() == "hello"


def test_log_artifact_at_root_and_default_download_to_temp_folder(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "model.pkl", "bytes"))

    landed = Path(repo.download_artifacts("model.pkl"))

    assert landed.name == "model.pkl"
    assert landed.read_text() == "bytes"
    assert not landed.is_relative_to(tmp_path / "root")


def test_log_artifacts_copies_a_folder_recursively(
    repo: LocalRepository, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    _write(source / "a.txt", "a")
    _write(source / "sub" / "b.txt", "bb")
    _write(source / "sub" / "deeper" / "c.txt", "ccc")
    (source / "empty").mkdir()

    repo.log_artifacts(source, "model")
    landed = Path(repo.download_artifacts("model", tmp_path / "dst"))

    assert landed == tmp_path / "dst" / "model"
    assert _tree(landed) == _tree(source)
    assert (landed / "empty").is_dir()


def test_download_of_root_returns_destination_itself(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "x.txt", "x"), "a")
    landed = repo.download_artifacts("", tmp_path / "dst")
    assert landed == str(tmp_path / "dst")
    assert _tree(Path(landed)) == {"a/x.txt": "x"}


def test_list_artifacts_gives_sorted_children_with_sizes(
    repo: LocalRepository, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    _write(source / "z.txt", "12345")
    _write(source / "a.txt", "1")
    _write(source / "m" / "inner.txt", "inner")
    repo.log_artifacts(source, "out")

    assert repo.list_artifacts() == [FileInfo("out", is_dir=True)]
    assert repo.list_artifacts("out") == [
        FileInfo("out/a.txt", is_dir=False, file_size=1),
        FileInfo("out/m", is_dir=True),
        FileInfo("out/z.txt", is_dir=False, file_size=5),
    ]
    assert repo.list_artifacts("out/m/") == [
        FileInfo("out/m/inner.txt", is_dir=False, file_size=5)
    ]


def test_list_artifacts_of_missing_path_or_file_is_empty(
    repo: LocalRepository, tmp_path: Path
) -> None:
    assert repo.list_artifacts() == []
    repo.log_artifact(_write(tmp_path / "f.txt", "f"))
    assert repo.list_artifacts("f.txt") == []
    assert repo.list_artifacts("nope") == []


def test_log_artifact_overwrites_atomically_and_leaves_no_temp_files(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "a" / "f.txt", "first"))
    repo.log_artifact(_write(tmp_path / "b" / "f.txt", "second"))

    assert sorted(os.listdir(repo.root)) == ["f.txt"]
    assert (repo.root / "f.txt").read_text() == "second"


def test_delete_artifacts_removes_a_file_a_folder_or_everything(
    repo: LocalRepository, tmp_path: Path
) -> None:
    _write(tmp_path / "src" / "keep.txt", "k")
    _write(tmp_path / "src" / "drop.txt", "d")
    _write(tmp_path / "src" / "sub" / "x.txt", "x")
    repo.log_artifacts(tmp_path / "src")

    repo.delete_artifacts("drop.txt")
    repo.delete_artifacts("sub")
    repo.delete_artifacts("never-existed")
    assert [info.path for info in repo.list_artifacts()] == ["keep.txt"]

    repo.delete_artifacts()
    assert repo.list_artifacts() == []


def test_download_of_missing_artifact_is_not_found(repo: LocalRepository) -> None:
    with pytest.raises(ResourceDoesNotExist, match=r"'missing\.txt'"):
        repo.download_artifacts("missing.txt")


def test_log_artifact_refuses_missing_file_and_folders(
    repo: LocalRepository, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameterValue, match="expected an existing file"):
        repo.log_artifact(tmp_path / "missing.txt")
    with pytest.raises(InvalidParameterValue, match="expected an existing folder"):
        repo.log_artifacts(tmp_path / "missing")


def test_log_artifact_refuses_to_replace_a_folder(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "x.txt", "x"), "name")
    with pytest.raises(InvalidParameterValue, match="a folder of that name"):
        repo.log_artifact(_write(tmp_path / "other" / "name", "y"))


def test_log_artifacts_checks_every_name_before_writing(
    repo: LocalRepository, tmp_path: Path
) -> None:
    _write(tmp_path / "src" / "good.txt", "g")
    _write(tmp_path / "src" / "bad;name.txt", "b")
    with pytest.raises(InvalidParameterValue, match="bad;name"):
        repo.log_artifacts(tmp_path / "src")
    assert not repo.root.exists()


def test_delete_of_inner_link_removes_the_link_not_its_target(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "target.txt", "t"))
    (repo.root / "alias").symlink_to(repo.root / "target.txt")

    repo.delete_artifacts("alias")

    assert (repo.root / "target.txt").read_text() == "t"
    assert not (repo.root / "alias").is_symlink()


def test_logging_under_a_file_is_refused_without_showing_local_paths(
    repo: LocalRepository, tmp_path: Path
) -> None:
    repo.log_artifact(_write(tmp_path / "a", "a file"))
    with pytest.raises(InvalidParameterValue) as info:
        repo.log_artifact(_write(tmp_path / "src" / "f.txt", "f"), "a/b")
    assert "'a/b'" in info.value.message
    assert str(tmp_path) not in info.value.message
    with pytest.raises(InvalidParameterValue, match="a file is in the way"):
        repo.log_artifacts(tmp_path / "src", "a")
