"""The public surface of kiln.search stays deliberate."""

from __future__ import annotations

import types

import kiln.search
import kiln.search.sql


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }


def test_every_public_name_is_exported_and_every_export_exists() -> None:
    for module in (kiln.search, kiln.search.sql):
        assert set(module.__all__) == _public_names(module)
