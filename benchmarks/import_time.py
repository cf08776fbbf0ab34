"""Wall time of ``python -c "import <library>"`` in a fresh interpreter.

Each measurement starts a new interpreter; one untimed start first warms
the file-system cache and writes the bytecode caches.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _harness import Sizes, Workload, main, timed


def _time_imports(module: str, measurements: int) -> list[float]:
    command = [sys.executable, "-c", f"import {module}"]

    def start() -> None:
        subprocess.run(command, check=True)

    start()
    return [timed(start) for _ in range(measurements)]


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    return _time_imports("kiln", measurements)


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    return _time_imports("mlflow", measurements)


WORKLOAD = Workload(
    name="import_time",
    description='wall time of python -c "import kiln" / "import mlflow"',
    unit="imports",
    sizes={},
    quick_sizes={},
    items=lambda sizes: 1,
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_kiln_seconds=0.3,
    setup_once=True,
    default_repeat=(7, 5),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
