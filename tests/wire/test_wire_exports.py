from __future__ import annotations

import importlib

import pytest

import kiln.wire

MODULES = ["datasets", "encoding", "experiments", "files", "logged", "message", "runs"]


@pytest.mark.parametrize("module", MODULES)
def test_package_reexports_every_public_name(module: str) -> None:
    names = importlib.import_module(f"kiln.wire.{module}").__all__
    assert set(names) <= set(kiln.wire.__all__)
    for name in names:
        assert hasattr(kiln.wire, name)
