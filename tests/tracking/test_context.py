from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from kiln.tracking import context, gitinfo
from kiln.tracking.client import KilnClient

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Kiln Tests",
    "GIT_AUTHOR_EMAIL": "tests@kiln.invalid",
    "GIT_COMMITTER_NAME": "Kiln Tests",
    "GIT_COMMITTER_EMAIL": "tests@kiln.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    _git(folder, "init", "-q", "-b", "main")
    _git(
        folder, "remote", "add", "origin", "https://user:s3cret@git.example/team/p.git"
    )
    (folder / "train.py").write_text("print('hi')\n")
    _git(folder, "add", "train.py")
    _git(folder, "commit", "-q", "-m", "first")
    return folder


@needs_git
def test_reads_commit_branch_and_remote(repo: Path) -> None:
    (repo / "src").mkdir()
    found = gitinfo.read_repository(repo / "src")
    assert found == gitinfo.GitRepository(
        commit=_git(repo, "rev-parse", "HEAD"),
        branch="main",
        remote_url="https://git.example/team/p.git",
    )


@needs_git
def test_reads_packed_refs(repo: Path) -> None:
    _git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    found = gitinfo.read_repository(repo)
    assert found is not None and found.commit == _git(repo, "rev-parse", "HEAD")


@needs_git
def test_detached_head_has_no_branch(repo: Path) -> None:
    sha = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", sha)
    assert gitinfo.read_repository(repo) == gitinfo.GitRepository(
        sha, None, "https://git.example/team/p.git"
    )


@needs_git
def test_linked_worktree(repo: Path, tmp_path: Path) -> None:
    _git(repo, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    found = gitinfo.read_repository(tmp_path / "wt")
    assert found is not None
    assert (found.commit, found.branch) == (_git(repo, "rev-parse", "HEAD"), "feature")
    assert found.remote_url == "https://git.example/team/p.git"


@needs_git
def test_repository_without_commits(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    assert gitinfo.read_repository(tmp_path) is None


def test_folder_outside_any_repository(tmp_path: Path) -> None:
    assert gitinfo.read_repository(tmp_path) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:tok@host/x.git", "https://host/x.git"),
        ("https://tok@host:8443/x.git", "https://host:8443/x.git"),
        ("https://host/x.git", "https://host/x.git"),
        ("git@github.com:team/x.git", "git@github.com:team/x.git"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert gitinfo.strip_credentials(url) == expected


@needs_git
def test_new_run_from_a_script_in_a_checkout(repo: Path, tracking_uri: str) -> None:
    script = repo / "train.py"
    script.write_text(
        "import kiln\n"
        f"kiln.set_tracking_uri({tracking_uri!r})\n"
        "with kiln.start_run() as run:\n"
        "    print(run.info.run_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "train.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    tags = KilnClient(tracking_uri).get_run(done.stdout.strip()).data.tags
    assert tags["mlflow.source.name"] == str(script.resolve())
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://git.example/team/p.git"
    assert tags["mlflow.user"]


def test_notebook_is_detected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "explore.ipynb"))
    context.source_tags.cache_clear()
    try:
        tags = context.source_tags()
    finally:
        context.source_tags.cache_clear()
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["mlflow.source.name"] == str(tmp_path / "explore.ipynb")


def test_user_falls_back_when_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("no user")

    monkeypatch.setattr(context.getpass, "getuser", no_user)
    context.current_user.cache_clear()
    try:
        assert context.current_user() == "unknown"
    finally:
        context.current_user.cache_clear()
