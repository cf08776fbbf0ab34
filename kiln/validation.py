"""Every rule about names, keys, values, ids and batch sizes, in one place.

Each store calls these before it writes anything, so bad input is refused
with :class:`~kiln.errors.InvalidParameterValue` and changes nothing. The
limits are MLflow's, with one deliberate difference: an over-long param or
tag value is refused instead of silently truncated.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from kiln.entities import Dataset, InputTag, Metric, Param, RunTag
from kiln.errors import InvalidParameterValue

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20_000
MAX_RUN_NAME_LENGTH = 250
MAX_ARTIFACT_LOCATION_LENGTH = 2048
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_ENTITIES = 1000
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_LENGTH = 65_535
MAX_DATASET_SCHEMA_LENGTH = 1_048_575
MAX_DATASET_PROFILE_LENGTH = 16_777_215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[0-9]{1,18}$")
_INT64_MAX = 2**63 - 1


def validate_key(key: object, kind: str = "metric") -> str:
    """Check a metric, param or tag key and return it.

    Keys use letters, digits, ``_ - . : /`` and spaces, at most 250
    characters, and must not read as a path that normalises elsewhere
    (``a/../b``, ``./a``, ``/a``).
    """
    if not isinstance(key, str) or not key:
        raise InvalidParameterValue(
            f"Invalid {kind} key {key!r}; a key must be a non-empty string."
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameterValue(
            f"The {kind} key {key[:40]!r}... is {len(key)} characters long; "
            f"the limit is {MAX_KEY_LENGTH}."
        )
    if not _KEY_RE.fullmatch(key):
        raise InvalidParameterValue(
            f"Invalid {kind} key {key!r}; keys may contain only letters, digits, "
            "underscores, dashes, periods, colons, spaces and slashes."
        )
    # MLflow also refuses "." and every key starting with "..", even "..a".
    normalized = posixpath.normpath(key)
    if normalized != key or key.startswith(("/", "..")) or key == ".":
        raise InvalidParameterValue(
            f"Invalid {kind} key {key!r}; a key must not contain path tricks such "
            "as '..', './', '//' or a leading '/'."
        )
    return key


def _validate_text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValue(f"The {what} must be a string, got {value!r}.")
    if len(value) > limit:
        raise InvalidParameterValue(
            f"The {what} is {len(value)} characters long; the limit is {limit}. "
            "Kiln refuses over-long values instead of truncating them."
        )
    return value


def validate_param(param: Param) -> None:
    validate_key(param.key, "param")
    _validate_text(param.value, f"value of param {param.key!r}", MAX_PARAM_VALUE_LENGTH)


def validate_tag(tag: RunTag) -> None:
    validate_key(tag.key, "tag")
    _validate_text(tag.value, f"value of tag {tag.key!r}", MAX_TAG_VALUE_LENGTH)


def validate_experiment_tag(tag: RunTag) -> None:
    validate_key(tag.key, "experiment tag")
    _validate_text(
        tag.value,
        f"value of experiment tag {tag.key!r}",
        MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    )


def _validate_int(value: object, what: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(f"The {what} must be an integer, got {value!r}.")
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise InvalidParameterValue(f"The {what} {value!r} does not fit in 64 bits.")
    if minimum is not None and value < minimum:
        raise InvalidParameterValue(
            f"The {what} must be at least {minimum}, got {value!r}."
        )
    return value


def validate_metric(metric: Metric) -> None:
    """Check a metric point: a valid key, a real number (NaN and ±inf allowed),
    a non-negative integer timestamp in ms and an integer step."""
    validate_key(metric.key, "metric")
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterValue(
            f"The value of metric {metric.key!r} must be a number, got {value!r}."
        )
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            raise InvalidParameterValue(
                f"The value of metric {metric.key!r} is too large for a float."
            ) from None
    _validate_int(metric.timestamp, f"timestamp of metric {metric.key!r}", minimum=0)
    _validate_int(metric.step, f"step of metric {metric.key!r}")


def validate_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> None:
    """Check a log-batch request against MLflow's limits and every item in it."""
    if len(metrics) > MAX_BATCH_METRICS:
        raise InvalidParameterValue(
            f"A batch may hold at most {MAX_BATCH_METRICS} metrics, got {len(metrics)}."
        )
    if len(params) > MAX_BATCH_PARAMS:
        raise InvalidParameterValue(
            f"A batch may hold at most {MAX_BATCH_PARAMS} params, got {len(params)}."
        )
    if len(tags) > MAX_BATCH_TAGS:
        raise InvalidParameterValue(
            f"A batch may hold at most {MAX_BATCH_TAGS} tags, got {len(tags)}."
        )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_ENTITIES:
        raise InvalidParameterValue(
            f"A batch may hold at most {MAX_BATCH_ENTITIES} items in all, got {total}."
        )
    # As in MLflow, a key may appear once per batch even with the same value.
    seen: set[str] = set()
    for param in params:
        validate_param(param)
        if param.key in seen:
            raise InvalidParameterValue(
                f"The batch sets param {param.key!r} again, to {param.value!r}; "
                "give each param key once per batch."
            )
        seen.add(param.key)
    for metric in metrics:
        validate_metric(metric)
    for tag in tags:
        validate_tag(tag)


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterValue(
            f"Invalid experiment name {name!r}; a name must be a non-empty string."
        )
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterValue(
            f"The experiment name {name[:40]!r}... is {len(name)} characters long; "
            f"the limit is {MAX_EXPERIMENT_NAME_LENGTH}."
        )
    return name


def validate_run_name(name: object) -> str:
    return _validate_text(name, "run name", MAX_RUN_NAME_LENGTH)


def validate_experiment_id(experiment_id: object) -> str:
    """Experiment ids are strings of a non-negative integer (MLflow's SQL store)."""
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        experiment_id = str(experiment_id)
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID_RE.fullmatch(
        experiment_id
    ):
        raise InvalidParameterValue(
            f"Invalid experiment id {experiment_id!r}; expected a string of digits "
            "such as '0'."
        )
    return experiment_id


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise InvalidParameterValue(
            f"Invalid run id {run_id!r}; expected letters, digits, '_' or '-' "
            "starting with a letter or digit."
        )
    return run_id


def validate_artifact_location(location: object) -> str:
    if not isinstance(location, str) or not location:
        raise InvalidParameterValue(f"Invalid artifact location {location!r}.")
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise InvalidParameterValue(
            f"The artifact location is {len(location)} characters long; the limit "
            f"is {MAX_ARTIFACT_LOCATION_LENGTH}."
        )
    if "\x00" in location:
        raise InvalidParameterValue(f"Invalid artifact location {location!r}.")
    return location


def validate_max_results(max_results: object, limit: int, what: str) -> int:
    """Check a page size: a positive integer no larger than ``limit``."""
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or max_results < 1
    ):
        raise InvalidParameterValue(
            f"Invalid max_results {max_results!r} for {what}; expected a positive "
            "integer."
        )
    if max_results > limit:
        raise InvalidParameterValue(
            f"Invalid max_results {max_results!r} for {what}; the limit is {limit}."
        )
    return max_results


def validate_dataset(dataset: Dataset) -> None:
    checks = (
        (dataset.name, "dataset name", MAX_DATASET_NAME_LENGTH),
        (dataset.digest, "dataset digest", MAX_DATASET_DIGEST_LENGTH),
        (dataset.source_type, "dataset source type", MAX_DATASET_SOURCE_LENGTH),
        (dataset.source, "dataset source", MAX_DATASET_SOURCE_LENGTH),
    )
    for value, what, limit in checks:
        _validate_text(value, what, limit)
        if not value:
            raise InvalidParameterValue(f"The {what} must not be empty.")
    if dataset.schema is not None:
        _validate_text(dataset.schema, "dataset schema", MAX_DATASET_SCHEMA_LENGTH)
    if dataset.profile is not None:
        _validate_text(dataset.profile, "dataset profile", MAX_DATASET_PROFILE_LENGTH)


def validate_input_tag(tag: InputTag) -> None:
    _validate_text(tag.key, "input tag key", MAX_INPUT_TAG_KEY_LENGTH)
    if not tag.key:
        raise InvalidParameterValue("An input tag key must not be empty.")
    _validate_text(
        tag.value, f"value of input tag {tag.key!r}", MAX_INPUT_TAG_VALUE_LENGTH
    )


_LOGGED_MODEL_NAME_FORBIDDEN = ("/", ":", ".", "%", '"', "'")


def validate_logged_model_name(name: object) -> str:
    """A logged model's name: non-empty, and free of characters that would
    make ``runs:/<run>/<name>`` or ``models:/<name>`` URIs ambiguous."""
    text = _validate_text(name, "logged model name", MAX_EXPERIMENT_NAME_LENGTH)
    if not text or any(c in text for c in _LOGGED_MODEL_NAME_FORBIDDEN):
        raise InvalidParameterValue(
            f"Invalid logged model name {text!r}; expected a non-empty name "
            f"without any of {' '.join(_LOGGED_MODEL_NAME_FORBIDDEN)}."
        )
    return text


MAX_REGISTERED_MODEL_NAME_LENGTH = 256
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 100_000

_ALIAS_RE = re.compile(r"^[\w\-]*$")
_RESERVED_VERSION_ALIAS_RE = re.compile(r"^v\d+$", re.IGNORECASE)
_MODEL_VERSION_RE = re.compile(r"^[0-9]{1,9}$")


def validate_registered_model_name(name: object) -> str:
    """A registered model's name: non-empty, at most 256 characters, without
    ``/`` or ``:`` (they would make ``models:/`` URIs ambiguous), ``..``
    segments or control characters."""
    text = _validate_text(
        name, "registered model name", MAX_REGISTERED_MODEL_NAME_LENGTH
    )
    if (
        not text.strip()
        or "/" in text
        or ":" in text
        or text in (".", "..")
        or any(ord(char) < 32 or ord(char) == 127 for char in text)
    ):
        raise InvalidParameterValue(
            f"Invalid registered model name {text!r}; expected a non-empty name "
            "without '/', ':' or control characters."
        )
    return text


def validate_model_version(version: object) -> int:
    """A model version number, given as an int or its decimal string."""
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not _MODEL_VERSION_RE.fullmatch(version):
        raise InvalidParameterValue(
            f"Invalid model version {version!r}; expected a positive integer "
            "such as '1'."
        )
    number = int(version)
    if number < 1:
        raise InvalidParameterValue(
            f"Invalid model version {version!r}; versions start at 1."
        )
    return number


def validate_registry_tag(key: object, value: object, kind: str) -> None:
    """A tag of a registered model or model version (``kind`` names which)."""
    validate_key(key, kind)
    _validate_text(value, f"value of {kind} {key!r}", MAX_REGISTRY_TAG_VALUE_LENGTH)


def validate_description(description: object) -> str | None:
    if description is None:
        return None
    return _validate_text(description, "description", MAX_DESCRIPTION_LENGTH)


def validate_alias(alias: object) -> str:
    """An alias: letters, digits, ``_`` and ``-``, at most 255 characters,
    and neither ``latest`` nor ``v<digits>`` in any case, which already mean
    a version in ``models:/`` URIs."""
    text = _validate_text(alias, "alias", MAX_ALIAS_LENGTH)
    if not text or not _ALIAS_RE.fullmatch(text):
        raise InvalidParameterValue(
            f"Invalid alias {text!r}; expected letters, digits, '_' or '-'."
        )
    if text.lower() == "latest" or _RESERVED_VERSION_ALIAS_RE.fullmatch(text):
        raise InvalidParameterValue(
            f"The alias {text!r} is reserved; 'latest' and 'v<number>' already "
            "name versions in models:/ URIs."
        )
    return text


MAX_USER_ID_LENGTH = 256
MAX_REASON_LENGTH = 5000


def validate_user_id(user_id: object) -> str | None:
    """Who made a change in the registry: None or at most 256 characters."""
    if user_id is None:
        return None
    return _validate_text(user_id, "user id", MAX_USER_ID_LENGTH)


def validate_reason(reason: object) -> str | None:
    """Why a registry change was made: None or at most 5000 characters."""
    if reason is None:
        return None
    return _validate_text(reason, "reason", MAX_REASON_LENGTH)
