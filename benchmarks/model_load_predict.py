"""Run both model benchmarks, ``model_load.py`` then ``model_predict.py``,
with the same command-line options (see ``benchmarks/README.md``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in ("model_load.py", "model_predict.py"):
        done = subprocess.run(
            [sys.executable, str(HERE / script), *sys.argv[1:]], check=False
        )
        if done.returncode != 0:
            sys.exit(done.returncode)
