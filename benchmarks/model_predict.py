"""The cost a loaded generic model adds to a single-row ``predict``.

Set up (not timed): the model of ``model_common`` saved by the library and
loaded with its ``pyfunc.load_model``. Timed: each of many single-row
DataFrame calls, alternating the wrapper's ``predict`` (signature checks
and conversion included) with the estimator's own ``predict`` on the same
frame. One measurement is the wrapper's median call minus the raw median
call, times PER: the overhead of PER calls, in seconds (lower is better).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Sizes, Workload, check, main
from model_common import one_row, save_with_kiln, save_with_mlflow

# Overheads are reported per this many calls, so they print legibly.
PER = 1000


def _call_seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _overheads(wrapper: Any, estimator: Any, sizes: Sizes, n: int) -> list[float]:
    row = one_row()
    expected = estimator.predict(row).tolist()
    check(list(wrapper.predict(row)) == expected, "the wrapper predicts otherwise")

    def wrapped() -> Any:
        return wrapper.predict(row)

    def raw() -> Any:
        return estimator.predict(row)

    for _ in range(sizes["warmup"]):
        wrapped()
        raw()
    overheads: list[float] = []
    for _ in range(n):
        wrapped_times: list[float] = []
        raw_times: list[float] = []
        # Alternating the two spreads any drift in machine load over both.
        for _ in range(sizes["calls"]):
            wrapped_times.append(_call_seconds(wrapped))
            raw_times.append(_call_seconds(raw))
        per_call = statistics.median(wrapped_times) - statistics.median(raw_times)
        overheads.append(per_call * PER)
    return overheads


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from kiln import pyfunc

    path, _ = save_with_kiln(folder)
    model = pyfunc.load_model(path)
    return _overheads(model, model.unwrap_python_model(), sizes, measurements)


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    import mlflow.pyfunc

    path, _ = save_with_mlflow(folder)
    model = mlflow.pyfunc.load_model(str(path))
    return _overheads(model, model.get_raw_model(), sizes, measurements)


WORKLOAD = Workload(
    name="model_predict",
    description=(
        f"single-row DataFrame predict, generic wrapper minus raw estimator, "
        f"per {PER} calls"
    ),
    unit="overhead-calls",
    sizes={"calls": 2000, "warmup": 200},
    quick_sizes={"calls": 200, "warmup": 20},
    items=lambda sizes: PER,
    kiln=run_kiln,
    mlflow=run_mlflow,
    target_ratio=2.0,
    setup_once=True,
    default_repeat=(5, 5),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
