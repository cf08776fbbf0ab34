"""Loading a saved model as a generic Python model.

Set up (not timed): the model of ``model_common`` saved by the library
into a local folder, then one untimed load, which pays the imports (numpy,
pandas, scikit-learn, the library itself) that any first load pays; their
cost is what ``import_time.py`` measures. Timed: each further
``pyfunc.load_model(path)`` in the same process: reading ``MLmodel``, the
signature and the estimator file, and building the wrapper. Each load
checks it predicts what the estimator predicts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Sizes, Workload, check, main, timed
from model_common import one_row, save_with_kiln, save_with_mlflow


def _time_loads(
    load: Callable[[], Any], estimator: Any, measurements: int
) -> list[float]:
    row = one_row()
    expected = estimator.predict(row).tolist()
    loaded: list[Any] = [load()]
    seconds: list[float] = []
    for _ in range(measurements):
        seconds.append(timed(lambda: loaded.append(load())))
        check(list(loaded[-1].predict(row)) == expected, "the loaded model differs")
    return seconds


def run_kiln(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    from kiln import pyfunc

    path, estimator = save_with_kiln(folder)
    return _time_loads(lambda: pyfunc.load_model(path), estimator, measurements)


def run_mlflow(folder: Path, sizes: Sizes, measurements: int) -> list[float]:
    import mlflow.pyfunc

    path, estimator = save_with_mlflow(folder)
    return _time_loads(
        lambda: mlflow.pyfunc.load_model(str(path)), estimator, measurements
    )


WORKLOAD = Workload(
    name="model_load",
    description="pyfunc.load_model of a saved LogisticRegression, in process",
    unit="loads",
    sizes={},
    quick_sizes={},
    items=lambda sizes: 1,
    kiln=run_kiln,
    mlflow=run_mlflow,
    setup_once=True,
    default_repeat=(30, 30),
)

if __name__ == "__main__":
    main(WORKLOAD, __file__)
