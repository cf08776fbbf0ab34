"""Shared runner for Kiln-versus-MLflow benchmarks.

Each benchmark script describes one :class:`Workload` with two functions, one
per library, that import their library *inside* the function. The runner
starts every measurement in a fresh subprocess with a fresh temporary folder
(so a fresh SQLite file): Kiln's side with this Python, MLflow's side with the
Python given by ``--mlflow-python``. MLflow is therefore never imported into
Kiln's process, and neither side pays for the other's imports or caches.

The script talks to its own workers through ``--worker kiln|mlflow``: the
worker runs one side and prints its timings as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Sizes of one workload, such as {"calls": 10_000}.
Sizes = dict[str, int]
# Runs one side once: (work folder, sizes, measurements) -> seconds per
# measurement. Setup happens before the clock starts.
Side = Callable[[Path, Sizes, int], list[float]]


@dataclass(frozen=True)
class Workload:
    """One benchmark: what is timed, on both sides, and the goal."""

    name: str
    description: str
    unit: str
    sizes: Sizes
    quick_sizes: Sizes
    items: Callable[[Sizes], int]
    kiln: Side
    mlflow: Side
    target_ratio: float | None = None
    target_kiln_seconds: float | None = None
    # True when one worker sets up once and times every repeat (queries);
    # False when each repeat needs a fresh database (writes).
    setup_once: bool = False
    default_repeat: tuple[int, int] = (3, 1)


@dataclass
class Result:
    side: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _parse_args(workload: Workload) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=workload.description)
    parser.add_argument("--mlflow-python", help="Python of a venv with mlflow")
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"measurements for Kiln (default {workload.default_repeat[0]})",
    )
    parser.add_argument(
        "--mlflow-repeat",
        type=int,
        help="measurements for MLflow (default: --repeat if given, else "
        f"{workload.default_repeat[1]})",
    )
    parser.add_argument("--quick", action="store_true", help="use small sizes")
    parser.add_argument("--worker", choices=["kiln", "mlflow"], help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    parser.add_argument("--measurements", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def _worker_env(side: str) -> dict[str, str]:
    env = dict(os.environ)
    # Keep both sides offline and quiet; neither may phone home mid-timing.
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("KILN_TRACKING_URI", None)
    if side == "kiln":
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
    else:
        env.pop("PYTHONPATH", None)
    return env


def _run_worker(
    script: str, python: str, side: str, sizes: Sizes, measurements: int
) -> list[float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{side}-") as folder:
        command = [
            python,
            script,
            "--worker",
            side,
            "--sizes",
            json.dumps(sizes),
            "--measurements",
            str(measurements),
        ]
        done = subprocess.run(
            command,
            cwd=folder,
            env=_worker_env(side),
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"The {side} worker failed with code {done.returncode}.")
    last_line = done.stdout.strip().splitlines()[-1]
    seconds: list[float] = json.loads(last_line)["seconds"]
    return seconds


def _measure(
    workload: Workload,
    script: str,
    python: str,
    side: str,
    sizes: Sizes,
    repeat: int,
) -> Result:
    if workload.setup_once:
        return Result(side, _run_worker(script, python, side, sizes, repeat))
    seconds: list[float] = []
    for _ in range(repeat):
        seconds.extend(_run_worker(script, python, side, sizes, 1))
    return Result(side, seconds)


def _format_line(workload: Workload, result: Result, items: int) -> str:
    rate = items / result.median
    spread = ", ".join(f"{s:.4f}" for s in result.seconds)
    return (
        f"  {result.side:<7} median {result.median:9.4f} s  "
        f"{rate:14,.1f} {workload.unit}/s  (n={len(result.seconds)}: {spread})"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _report(workload: Workload, sizes: Sizes, results: list[Result]) -> None:
    items = workload.items(sizes)
    print(f"{workload.name}: {workload.description}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"  sizes: {json.dumps(sizes)}")
    print(f"  load average at the end: {load} ({os.cpu_count()} CPUs)")
    for result in results:
        print(_format_line(workload, result, items))
    by_side = {result.side: result for result in results}
    kiln = by_side["kiln"]
    if workload.target_kiln_seconds is not None:
        ok = kiln.median < workload.target_kiln_seconds
        print(
            f"  target: Kiln under {workload.target_kiln_seconds} s: "
            f"{_verdict(ok)} ({kiln.median:.3f} s)"
        )
    if "mlflow" in by_side:
        ratio = by_side["mlflow"].median / kiln.median
        line = f"  ratio (Kiln rate / MLflow rate): {ratio:,.1f}x"
        if workload.target_ratio is not None:
            ok = ratio >= workload.target_ratio
            line += f"  target >= {workload.target_ratio:g}x: {_verdict(ok)}"
        print(line)


def _run_as_worker(workload: Workload, args: argparse.Namespace) -> None:
    side = workload.kiln if args.worker == "kiln" else workload.mlflow
    sizes: Sizes = json.loads(args.sizes)
    seconds = side(Path.cwd(), sizes, args.measurements)
    print(json.dumps({"seconds": seconds}))


def main(workload: Workload, script: str) -> None:
    """Run ``workload`` as described by the command line of ``script``."""
    args = _parse_args(workload)
    if args.worker:
        _run_as_worker(workload, args)
        return

    sizes = workload.quick_sizes if args.quick else workload.sizes
    kiln_repeat = args.repeat or workload.default_repeat[0]
    mlflow_repeat = args.mlflow_repeat or args.repeat or workload.default_repeat[1]
    script = str(Path(script).resolve())
    results = [_measure(workload, script, sys.executable, "kiln", sizes, kiln_repeat)]
    if args.mlflow_python:
        # Workers run in temporary folders: keep a relative path meaningful.
        # absolute(), not resolve(): a venv's python is often a symlink.
        mlflow_python = str(Path(args.mlflow_python).absolute())
        results.append(
            _measure(workload, script, mlflow_python, "mlflow", sizes, mlflow_repeat)
        )
    _report(workload, sizes, results)


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes, by the monotonic high-resolution clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def check(condition: bool, message: str) -> None:
    """Stop a worker whose workload did not do what it claims to time."""
    if not condition:
        raise SystemExit(f"Benchmark sanity check failed: {message}")
