from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from kiln import validation as v
from kiln.entities import Dataset, InputTag, Metric, Param, RunTag
from kiln.errors import InvalidParameterValue


def _refused(call: Callable[[], object], *fragments: str) -> None:
    """``call`` raises InvalidParameterValue whose message holds every fragment."""
    with pytest.raises(InvalidParameterValue) as info:
        call()
    for fragment in fragments:
        assert fragment in info.value.message


# --- keys -------------------------------------------------------------------

VALID_KEYS = [
    "loss",
    "a",
    "val/loss",
    "train-acc_top.5",
    "lr: epoch 1",
    "a..b",
    "x.",
    "élan",
    "k" * v.MAX_KEY_LENGTH,
]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_validate_key_accepts(key: str) -> None:
    assert v.validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        None,
        5,
        "a\nb",
        "loss\n",
        "a\tb",
        "a\x00",
        "semi;colon",
        "quote'",
        "back\\slash",
        "percent%",
        "hash#",
        "/abs",
        "a/",
        "a//b",
        "./a",
        "a/./b",
        "a/../b",
        "..",
        "../a",
        "..a",
        ".",
    ],
)
def test_validate_key_refuses(key: object) -> None:
    _refused(lambda: v.validate_key(key, "tag"), repr(key), "tag key")


def test_validate_key_refuses_over_long_key_showing_its_start() -> None:
    key = "k" * (v.MAX_KEY_LENGTH + 1)
    _refused(lambda: v.validate_key(key), repr(key[:40]), "251")


# --- params and tags ----------------------------------------------------------

TEXT_RULES: list[tuple[Callable[[Any], None], Callable[[str, Any], Any], int]] = [
    (v.validate_param, Param, v.MAX_PARAM_VALUE_LENGTH),
    (v.validate_tag, RunTag, v.MAX_TAG_VALUE_LENGTH),
    (v.validate_experiment_tag, RunTag, v.MAX_EXPERIMENT_TAG_VALUE_LENGTH),
]


@pytest.mark.parametrize(("rule", "entity", "limit"), TEXT_RULES)
@pytest.mark.parametrize("value_length", [0, 1, "limit"])
def test_text_values_up_to_the_limit_pass(
    rule: Callable[[Any], None],
    entity: Callable[[str, Any], Any],
    limit: int,
    value_length: int | str,
) -> None:
    length = limit if value_length == "limit" else int(value_length)
    rule(entity("key", "v" * length))


@pytest.mark.parametrize(("rule", "entity", "limit"), TEXT_RULES)
def test_text_values_over_the_limit_are_refused(
    rule: Callable[[Any], None], entity: Callable[[str, Any], Any], limit: int
) -> None:
    item = entity("key", "v" * (limit + 1))
    _refused(lambda: rule(item), "'key'", str(limit + 1), str(limit))


@pytest.mark.parametrize(("rule", "entity", "limit"), TEXT_RULES)
@pytest.mark.parametrize("value", [None, 3, b"bytes"])
def test_text_values_must_be_strings(
    rule: Callable[[Any], None],
    entity: Callable[[str, Any], Any],
    limit: int,
    value: object,
) -> None:
    _refused(lambda: rule(entity("key", value)), repr(value))


@pytest.mark.parametrize(("rule", "entity", "limit"), TEXT_RULES)
def test_text_rules_check_the_key(
    rule: Callable[[Any], None], entity: Callable[[str, Any], Any], limit: int
) -> None:
    _refused(lambda: rule(entity("../key", "v")), "'../key'")


# --- metrics ------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        Metric("m", 0.5, 0, 0),
        Metric("m", 3, 1_700_000_000_000, -5),
        Metric("m", math.nan, 1, 1),
        Metric("m", math.inf, 1, 1),
        Metric("m", -math.inf, 1, 1),
        Metric("m", 10**300, 1, 1),
        Metric("m", 1.0, 0, 2**63 - 1),
        Metric("m", 1.0, 0, -(2**63)),
    ],
)
def test_validate_metric_accepts(metric: Metric) -> None:
    v.validate_metric(metric)


@pytest.mark.parametrize(
    ("metric", "shown"),
    [
        (Metric("m", "0.5", 0, 0), "'0.5'"),  # type: ignore[arg-type]
        (Metric("m", None, 0, 0), "None"),  # type: ignore[arg-type]
        (Metric("m", True, 0, 0), "True"),
        (Metric("m", 10**400, 0, 0), "too large"),
        (Metric("m", 1.0, -1, 0), "-1"),
        (Metric("m", 1.0, 1.5, 0), "1.5"),  # type: ignore[arg-type]
        (Metric("m", 1.0, True, 0), "True"),
        (Metric("m", 1.0, 2**63, 0), str(2**63)),
        (Metric("m", 1.0, 0, 2**63), str(2**63)),
        (Metric("m", 1.0, 0, "3"), "'3'"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 0, None), "None"),  # type: ignore[arg-type]
        (Metric("bad;key", 1.0, 0, 0), "'bad;key'"),
    ],
)
def test_validate_metric_refuses(metric: Metric, shown: str) -> None:
    _refused(lambda: v.validate_metric(metric), shown, repr(metric.key))


# --- batches ------------------------------------------------------------------


def _metrics(count: int) -> list[Metric]:
    return [Metric(f"m{i}", 1.0, 0, 0) for i in range(count)]


def _params(count: int) -> list[Param]:
    return [Param(f"p{i}", "v") for i in range(count)]


def _tags(count: int) -> list[RunTag]:
    return [RunTag(f"t{i}", "v") for i in range(count)]


@pytest.mark.parametrize(
    ("metrics", "params", "tags"),
    [
        (0, 0, 0),
        (v.MAX_BATCH_METRICS, 0, 0),
        (0, v.MAX_BATCH_PARAMS, v.MAX_BATCH_TAGS),
        (800, 100, 100),
    ],
)
def test_validate_batch_accepts_up_to_the_limits(
    metrics: int, params: int, tags: int
) -> None:
    v.validate_batch(_metrics(metrics), _params(params), _tags(tags))


@pytest.mark.parametrize("second", ["1", "2"])
def test_validate_batch_refuses_a_param_key_given_twice(second: str) -> None:
    batch = [Param("p", "1"), Param("p", second)]
    _refused(lambda: v.validate_batch([], batch, []), "'p'", "once per batch")


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "shown"),
    [
        (v.MAX_BATCH_METRICS + 1, 0, 0, "1001"),
        (0, v.MAX_BATCH_PARAMS + 1, 0, "101"),
        (0, 0, v.MAX_BATCH_TAGS + 1, "101"),
        (900, 100, 1, "1001"),
    ],
)
def test_validate_batch_refuses_over_the_limits(
    metrics: int, params: int, tags: int, shown: str
) -> None:
    batch = (_metrics(metrics), _params(params), _tags(tags))
    _refused(lambda: v.validate_batch(*batch), shown)


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "shown"),
    [
        ([], [Param("p", "1"), Param("p", "2")], [], "'2'"),
        ([Metric("m", "x", 0, 0)], [], [], "'x'"),  # type: ignore[arg-type]
        ([], [Param("../p", "1")], [], "'../p'"),
        ([], [], [RunTag("t", 7)], "7"),  # type: ignore[arg-type]
    ],
)
def test_validate_batch_checks_every_item(
    metrics: list[Metric], params: list[Param], tags: list[RunTag], shown: str
) -> None:
    _refused(lambda: v.validate_batch(metrics, params, tags), shown)


# --- names and ids ------------------------------------------------------------


@pytest.mark.parametrize("name", ["Default", "a", "my experiment/1", "x" * 500])
def test_validate_experiment_name_accepts(name: str) -> None:
    assert v.validate_experiment_name(name) == name


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_validate_experiment_name_refuses(name: object) -> None:
    _refused(lambda: v.validate_experiment_name(name), repr(name))


def test_validate_experiment_name_refuses_over_long_name() -> None:
    name = "n" * (v.MAX_EXPERIMENT_NAME_LENGTH + 1)
    _refused(lambda: v.validate_experiment_name(name), repr(name[:40]), "501")


@pytest.mark.parametrize("name", ["", "run-1", "r" * v.MAX_RUN_NAME_LENGTH])
def test_validate_run_name_accepts(name: str) -> None:
    assert v.validate_run_name(name) == name


@pytest.mark.parametrize(
    ("name", "shown"), [(None, "None"), (1, "1"), ("r" * 251, "251")]
)
def test_validate_run_name_refuses(name: object, shown: str) -> None:
    _refused(lambda: v.validate_run_name(name), shown)


@pytest.mark.parametrize(
    ("experiment_id", "expected"),
    [("0", "0"), ("123", "123"), (7, "7"), ("9" * 18, "9" * 18)],
)
def test_validate_experiment_id_accepts(experiment_id: object, expected: str) -> None:
    assert v.validate_experiment_id(experiment_id) == expected


@pytest.mark.parametrize(
    "experiment_id",
    ["", "abc", "-1", "1.5", " 1", "1\n", "9" * 19, None, True, -1, 1.0],
)
def test_validate_experiment_id_refuses(experiment_id: object) -> None:
    shown = repr(str(experiment_id) if type(experiment_id) is int else experiment_id)
    _refused(lambda: v.validate_experiment_id(experiment_id), shown)


@pytest.mark.parametrize("run_id", ["a", "0123abcd" * 4, "Run_1-x", "r" + "x" * 255])
def test_validate_run_id_accepts(run_id: str) -> None:
    assert v.validate_run_id(run_id) == run_id


@pytest.mark.parametrize(
    "run_id",
    ["", "_a", "-a", "a/b", "a b", "a.b", "../x", "abc\n", "r" + "x" * 256, None, 5],
)
def test_validate_run_id_refuses(run_id: object) -> None:
    _refused(lambda: v.validate_run_id(run_id), repr(run_id))


# --- artifact locations and page sizes -----------------------------------------


@pytest.mark.parametrize(
    "location", ["file:///srv/a", "s3://b/p", "x" * v.MAX_ARTIFACT_LOCATION_LENGTH]
)
def test_validate_artifact_location_accepts(location: str) -> None:
    assert v.validate_artifact_location(location) == location


@pytest.mark.parametrize("location", ["", None, 3, "/srv/a\x00b"])
def test_validate_artifact_location_refuses(location: object) -> None:
    _refused(lambda: v.validate_artifact_location(location), repr(location))


def test_validate_artifact_location_refuses_over_long_location() -> None:
    location = "x" * (v.MAX_ARTIFACT_LOCATION_LENGTH + 1)
    _refused(lambda: v.validate_artifact_location(location), "2049", "2048")


@pytest.mark.parametrize("max_results", [1, 500, 1000])
def test_validate_max_results_accepts(max_results: int) -> None:
    assert v.validate_max_results(max_results, 1000, "runs") == max_results


@pytest.mark.parametrize("max_results", [0, -1, 1001, 1.5, "10", None, True])
def test_validate_max_results_refuses(max_results: object) -> None:
    _refused(
        lambda: v.validate_max_results(max_results, 1000, "runs"),
        repr(max_results),
        "runs",
    )


# --- datasets and input tags ----------------------------------------------------


def _dataset(**changes: Any) -> Dataset:
    fields: dict[str, Any] = {
        "name": "train",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "/data/train.csv"}',
        "schema": None,
        "profile": None,
    }
    fields.update(changes)
    return Dataset(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"schema": "{}", "profile": "{}"},
        {"name": "n" * v.MAX_DATASET_NAME_LENGTH},
        {"digest": "d" * v.MAX_DATASET_DIGEST_LENGTH},
        {"source": "s" * v.MAX_DATASET_SOURCE_LENGTH},
    ],
)
def test_validate_dataset_accepts(changes: dict[str, Any]) -> None:
    v.validate_dataset(_dataset(**changes))


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"name": ""}, "dataset name must not be empty"),
        ({"digest": ""}, "dataset digest must not be empty"),
        ({"source_type": ""}, "source type must not be empty"),
        ({"source": ""}, "dataset source must not be empty"),
        ({"name": None}, "None"),
        ({"digest": 5}, "5"),
        ({"name": "n" * 501}, "501"),
        ({"digest": "d" * 37}, "37"),
        ({"source": "s" * (v.MAX_DATASET_SOURCE_LENGTH + 1)}, "65536"),
        ({"schema": 1}, "1"),
        ({"profile": ["p"]}, "['p']"),
    ],
)
def test_validate_dataset_refuses(changes: dict[str, Any], shown: str) -> None:
    _refused(lambda: v.validate_dataset(_dataset(**changes)), shown)


def test_validate_dataset_refuses_over_long_schema_and_profile() -> None:
    schema = "s" * (v.MAX_DATASET_SCHEMA_LENGTH + 1)
    _refused(lambda: v.validate_dataset(_dataset(schema=schema)), "1048576")
    profile = "p" * (v.MAX_DATASET_PROFILE_LENGTH + 1)
    _refused(lambda: v.validate_dataset(_dataset(profile=profile)), "16777216")


@pytest.mark.parametrize(
    "tag",
    [
        InputTag("mlflow.data.context", "training"),
        InputTag("k" * v.MAX_INPUT_TAG_KEY_LENGTH, "v" * v.MAX_INPUT_TAG_VALUE_LENGTH),
    ],
)
def test_validate_input_tag_accepts(tag: InputTag) -> None:
    v.validate_input_tag(tag)


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        (InputTag("", "v"), "must not be empty"),
        (InputTag(None, "v"), "None"),  # type: ignore[arg-type]
        (InputTag("k" * 256, "v"), "256"),
        (InputTag("k", "v" * 501), "'k'"),
        (InputTag("k", 3), "3"),  # type: ignore[arg-type]
    ],
)
def test_validate_input_tag_refuses(tag: InputTag, shown: str) -> None:
    _refused(lambda: v.validate_input_tag(tag), shown)
