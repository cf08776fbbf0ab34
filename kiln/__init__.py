"""Kiln: track experiments, register and serve models, compatible with MLflow.

The fluent API logs to the active run::

    import kiln

    kiln.set_experiment("churn")
    with kiln.start_run(run_name="baseline"):
        kiln.log_param("model", "logistic")
        kiln.log_metric("auc", 0.91)

and :class:`KilnClient` offers the same operations on explicit ids. Names
are imported on first use, so ``import kiln`` stays fast and loads neither
pandas, numpy, SQLAlchemy nor httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln import data, pyfunc, pytorch, sklearn
    from kiln.tracking.client import KilnClient
    from kiln.tracking.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_tag,
        end_run,
        flush,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        register_model,
        search_experiments,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "KilnClient",
    "__version__",
    "active_run",
    "create_experiment",
    "data",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "pyfunc",
    "pytorch",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "sklearn",
    "start_run",
]

# Where each public name lives; it is imported on first access.
_LAZY: dict[str, str] = {
    name: "kiln.tracking.fluent"
    for name in __all__
    if name not in ("KilnClient", "__version__", "data", "pyfunc", "pytorch", "sklearn")
}
_LAZY["KilnClient"] = "kiln.tracking.client"
_SUBMODULES = ("data", "pyfunc", "pytorch", "sklearn")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(import_module(module), name)
    elif name in _SUBMODULES:
        value = import_module(f"kiln.{name}")
    else:
        raise AttributeError(f"module 'kiln' has no attribute {name!r}")
    # Cache it, so later lookups skip this function.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
