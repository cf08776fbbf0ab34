"""Automatic logging of scikit-learn training: :func:`autolog`.

``autolog()`` wraps ``fit`` of every scikit-learn estimator, pipeline and
search (GridSearchCV, RandomizedSearchCV). The outermost ``fit`` logs the
estimator's params, training metrics (its ``score`` and, for classifiers
and regressors, the usual metrics on the training data), the fitted model
with an input example and signature, and for searches the best params and
cross-validation score. The run is tagged ``mlflow.autologging=sklearn``.
Fits inside a pipeline or search log nothing of their own.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from kiln.errors import KilnError

__all__ = ["autolog"]

_log = logging.getLogger(__name__)

# Set while an autologged fit runs, so nested fits log nothing.
_inside_fit: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kiln_sklearn_inside_fit", default=False
)
# class → its own fit before patching (None: it inherited one), to restore.
_patched: dict[type, Callable[..., Any] | None] = {}
_settings: dict[str, bool] = {"log_models": True, "log_input_examples": True}

_EXAMPLE_ROWS = 5


def autolog(
    log_models: bool = True, log_input_examples: bool = True, disable: bool = False
) -> None:
    """Start (or with ``disable=True`` stop) logging scikit-learn fits."""
    _unpatch_all()
    if disable:
        return
    _settings.update(log_models=log_models, log_input_examples=log_input_examples)
    for cls in _estimator_classes():
        fit = getattr(cls, "fit", None)
        if callable(fit) and cls not in _patched:
            _patched[cls] = cls.__dict__.get("fit")
            cls.fit = _wrap(fit)  # type: ignore[attr-defined]


def _estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()]
    return [*classes, Pipeline, GridSearchCV, RandomizedSearchCV]


def _unpatch_all() -> None:
    for cls, original in _patched.items():
        if original is None:
            del cls.fit  # type: ignore[attr-defined]
        else:
            cls.fit = original  # type: ignore[attr-defined]
    _patched.clear()


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _inside_fit.get():
            return original(self, *args, **kwargs)
        token = _inside_fit.set(True)
        try:
            return _fit_and_log(original, self, args, kwargs)
        finally:
            _inside_fit.reset(token)

    return fit


def _fit_and_log(
    original: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    from kiln.tracking import fluent

    # fit signatures differ (LabelEncoder.fit(y), Pipeline.fit(X, y, **params)).
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    started = fluent.active_run() is None
    run = fluent.active_run() or fluent.start_run()
    try:
        _log_before_fit(estimator)
        result = original(estimator, *args, **kwargs)
        _log_after_fit(estimator, X, y)
    except BaseException:
        if started:
            fluent.end_run("FAILED")
        raise
    if started and fluent.active_run() is run:
        fluent.end_run()
    return result


def _params(estimator: Any) -> dict[str, object]:
    # Nested estimators appear as their repr; MLflow logs them the same way.
    return {key: value for key, value in estimator.get_params(deep=True).items()}


def _log_before_fit(estimator: Any) -> None:
    from kiln.tracking import fluent

    try:
        fluent.set_tag("mlflow.autologging", "sklearn")
        fluent.log_params(_params(estimator))
    # Autologging never breaks training: a refused value is reported instead.
    except KilnError as exc:
        _log.warning("scikit-learn autologging could not log params: %s", exc)


def _log_after_fit(estimator: Any, X: Any, y: Any) -> None:
    from kiln.tracking import fluent

    try:
        fluent.log_metrics(_training_metrics(estimator, X, y))
        if hasattr(estimator, "best_params_"):
            fluent.log_params(
                {f"best_{k}": v for k, v in estimator.best_params_.items()}
            )
            fluent.log_metric("best_cv_score", float(estimator.best_score_))
        if _settings["log_models"]:
            _log_fitted_model(estimator, X)
    # Autologging never breaks training: a refused value is reported instead.
    except KilnError as exc:
        _log.warning("scikit-learn autologging could not log the fit: %s", exc)


def _training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if y is None or not hasattr(estimator, "predict"):
        return {}
    values: dict[str, float] = {}
    try:
        predicted = estimator.predict(X)
        if hasattr(estimator, "score"):
            values["training_score"] = float(estimator.score(X, y))
        if is_classifier(estimator):
            values["training_accuracy_score"] = metrics.accuracy_score(y, predicted)
            values["training_f1_score"] = metrics.f1_score(
                y, predicted, average="weighted"
            )
        elif is_regressor(estimator):
            values["training_mean_squared_error"] = metrics.mean_squared_error(
                y, predicted
            )
            values["training_mean_absolute_error"] = metrics.mean_absolute_error(
                y, predicted
            )
            values["training_r2_score"] = metrics.r2_score(y, predicted)
    # Estimators that cannot score their own training data (some outlier
    # detectors, multi-output shapes) simply get fewer metrics.
    except (ValueError, TypeError) as exc:
        _log.info("Skipping training metrics: %s", exc)
    return {key: float(value) for key, value in values.items()}


def _example(X: Any) -> Any:
    head = getattr(X, "iloc", None)
    if head is not None:
        return X.iloc[:_EXAMPLE_ROWS]
    return X[:_EXAMPLE_ROWS]


def _untrusted_types(estimator: Any) -> list[str]:
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(estimator)))


def _log_fitted_model(estimator: Any, X: Any) -> None:
    example = _example(X) if _settings["log_input_examples"] else None
    _log_one_model(estimator, "model", example)
    best = getattr(estimator, "best_estimator_", None)
    if best is not None:
        _log_one_model(best, "best_estimator", example)


def _log_one_model(estimator: Any, name: str, example: Any) -> None:
    from kiln import sklearn as kiln_sklearn

    untrusted = _untrusted_types(estimator)
    # scikit-learn's own classes that skops does not trust by default (a
    # search's splitter and scorer, say) are trusted; user code is not.
    foreign = [t for t in untrusted if not t.startswith("sklearn.")]
    if foreign:
        _log.warning(
            "Logging %r with cloudpickle: skops does not trust %s", name, foreign
        )
        kiln_sklearn.log_model(
            estimator,
            name=name,
            input_example=example,
            serialization_format="cloudpickle",
        )
        return
    kiln_sklearn.log_model(
        estimator, name=name, input_example=example, skops_trusted_types=untrusted
    )
