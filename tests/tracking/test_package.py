from __future__ import annotations

import importlib.metadata
import inspect
import json
import subprocess
import sys

import pytest

import kiln
import kiln.tracking.fluent

_HEAVY = ("pandas", "numpy", "sqlalchemy", "httpx", "yaml", "alembic", "matplotlib")


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_import_kiln_loads_no_heavy_library() -> None:
    loaded = json.loads(
        _run(
            "import json, sys, kiln\n"
            f"print(json.dumps([m for m in {_HEAVY!r} if m in sys.modules]))"
        )
    )
    assert loaded == []


def test_fluent_api_loads_no_heavy_library_until_used() -> None:
    # Touching the fluent functions must not pull in pandas or numpy either;
    # those load with search_runs or datasets only.
    loaded = json.loads(
        _run(
            "import json, sys, kiln\n"
            "kiln.log_metric, kiln.start_run, kiln.KilnClient\n"
            "print(json.dumps([m for m in ('pandas', 'numpy', 'matplotlib') "
            "if m in sys.modules]))"
        )
    )
    assert loaded == []


def test_import_kiln_is_fast() -> None:
    # The interpreter's own start is excluded: time only the import.
    seconds = float(
        _run(
            "import time\n"
            "start = time.perf_counter()\n"
            "import kiln\n"
            "print(time.perf_counter() - start)"
        )
    )
    assert seconds < 0.3


@pytest.mark.parametrize("name", kiln.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(kiln, name) is not None


def test_public_list_covers_the_fluent_api() -> None:
    assert set(kiln.tracking.fluent.__all__) <= set(kiln.__all__)
    assert {"KilnClient", "data", "__version__"} <= set(kiln.__all__)


def test_fluent_module_exports_what_it_defines() -> None:
    defined = {
        name
        for name, value in vars(kiln.tracking.fluent).items()
        if not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == "kiln.tracking.fluent"
    }
    assert defined <= set(kiln.tracking.fluent.__all__)


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = kiln.no_such_name  # type: ignore[attr-defined]


def test_dir_lists_public_names() -> None:
    assert set(kiln.__all__) <= set(dir(kiln))


def test_version_matches_distribution() -> None:
    assert kiln.__version__ == importlib.metadata.version("kiln-ml")
