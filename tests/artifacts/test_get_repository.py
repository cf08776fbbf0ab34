from __future__ import annotations

from pathlib import Path

import pytest

from kiln.artifacts import LocalRepository, Repository, get_repository
from kiln.errors import NotImplementedFeature


@pytest.mark.parametrize("form", ["path", "uri", "short-uri"])
def test_local_roots_give_a_local_repository(tmp_path: Path, form: str) -> None:
    uri = {
        "path": str(tmp_path),
        "uri": tmp_path.as_uri(),
        "short-uri": f"file:{tmp_path}",
    }[form]

    repo = get_repository(uri)

    assert isinstance(repo, LocalRepository)
    assert isinstance(repo, Repository)
    assert repo.root_uri == uri
    assert repo.root == tmp_path


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("GS://bucket/x", "gs"),
        ("wasbs://container@account.blob.core.windows.net/x", "wasbs"),
        ("hdfs://namenode/x", "hdfs"),
    ],
)
def test_other_schemes_are_not_implemented(uri: str, scheme: str) -> None:
    with pytest.raises(NotImplementedFeature, match=repr(scheme)):
        get_repository(uri)
