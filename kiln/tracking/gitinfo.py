"""Read the commit, branch and remote of a git checkout from its ``.git`` files.

Reading the files costs a few small reads where starting ``git`` costs tens
of milliseconds, and works where git is not installed. Only repositories
kept in the newer ``reftable`` format fall back to running ``git`` (with an
argument list, never a shell).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["GitRepository", "read_repository", "strip_credentials"]

_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SECTION_RE = re.compile(r'^\[\s*([^\s\]"]+)(?:\s+"([^"]*)")?\s*\]')
_GIT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class GitRepository:
    """Where the code is: a commit, and the branch and remote when known."""

    commit: str
    branch: str | None
    remote_url: str | None


def read_repository(folder: Path) -> GitRepository | None:
    """Describe the git checkout holding ``folder``, or None if there is none
    or it has no commit yet."""
    git_dir = _find_git_dir(folder)
    if git_dir is None:
        return None
    common_dir = _common_dir(git_dir)
    head = _read_text(git_dir / "HEAD")
    if head is None:
        return None

    branch: str | None = None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/") else None
        commit = _resolve_ref(git_dir, common_dir, ref)
    else:
        commit = head
    if commit is None and (common_dir / "reftable").is_dir():
        commit = _run_git(git_dir, "rev-parse", "HEAD")
    if commit is None or not _SHA_RE.match(commit):
        return None
    return GitRepository(commit, branch, _remote_url(common_dir / "config"))


def _find_git_dir(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            # Worktrees and submodules: ``.git`` is a file naming the real dir.
            text = _read_text(dot_git)
            if text is None or not text.startswith("gitdir:"):
                return None
            return (candidate / text[7:].strip()).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    # A linked worktree keeps its own HEAD but shares refs and config.
    pointer = _read_text(git_dir / "commondir")
    return (git_dir / pointer).resolve() if pointer else git_dir


def _resolve_ref(git_dir: Path, common_dir: Path, ref: str) -> str | None:
    for base in (git_dir, common_dir):
        loose = _read_text(base / ref)
        if loose is not None:
            return loose
    packed = _read_text(common_dir / "packed-refs")
    for line in (packed or "").splitlines():
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return None


def _remote_url(config_path: Path) -> str | None:
    """The URL of remote ``origin``, else of the first remote, without
    credentials."""
    text = _read_text(config_path)
    if text is None:
        return None
    urls: dict[str, str] = {}
    remote: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        section = _SECTION_RE.match(line)
        if section is not None:
            remote = section.group(2) if section.group(1) == "remote" else None
            continue
        key, _, value = line.partition("=")
        if remote is not None and key.strip() == "url" and remote not in urls:
            urls[remote] = value.strip()
    url = urls.get("origin") or next(iter(urls.values()), None)
    return strip_credentials(url) if url else None


def strip_credentials(url: str) -> str:
    """Drop secrets from a remote URL so they never land in run tags.

    HTTP(S) URLs lose their whole ``user:password@`` part (a token often
    stands in as the user name); other schemes keep the user, which SSH
    needs, and lose only a password.
    """
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    if parts.scheme.lower() not in ("http", "https"):
        user = userinfo.partition(":")[0]
        host = f"{user}@{host}" if user else host
    return urlunsplit(parts._replace(netloc=host))


def _run_git(git_dir: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, f"--git-dir={git_dir}", *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
