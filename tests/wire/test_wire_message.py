from __future__ import annotations

import math

import pytest

from kiln.errors import InvalidParameterValue
from kiln.wire import VIEW_TYPES, Message, camel_case, read_run_id


@pytest.mark.parametrize(
    ("snake", "camel"),
    [("experiment_id", "experimentId"), ("max_results", "maxResults"),
     ("run_uuid", "runUuid"), ("key", "key"), ("start_step", "startStep")],
)  # fmt: skip
def test_camel_case_matches_protobuf_json_names(snake: str, camel: str) -> None:
    assert camel_case(snake) == camel


def test_fields_read_under_either_spelling() -> None:
    assert Message({"experimentId": "3"}).string("experiment_id") == "3"
    assert Message({"experiment_id": "3"}).string("experiment_id") == "3"


def test_both_spellings_at_once_are_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="sent twice"):
        Message({"experiment_id": "3", "experimentId": "3"}).string("experiment_id")


@pytest.mark.parametrize("fields", [{}, {"experiment_id": None}, {"experiment_id": ""}])
def test_missing_required_field_names_the_field(fields: dict[str, object]) -> None:
    with pytest.raises(
        InvalidParameterValue,
        match="Missing value for required parameter 'experiment_id'",
    ):
        Message(fields).string("experiment_id", required=True)


def test_nested_fields_are_named_by_path() -> None:
    msg = Message({"metrics": [{"key": "a", "value": 1, "timestamp": 1}, {"key": "b"}]})
    second = msg.messages("metrics")[1]
    with pytest.raises(InvalidParameterValue, match=r"'metrics\[1\]\.timestamp'"):
        second.int64("timestamp", required=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12, 12), ("12", 12), ("-3", -3), (12.0, 12), (2**63 - 1, 2**63 - 1)],
)
def test_int64_accepts_numbers_and_strings(raw: object, expected: int) -> None:
    assert Message({"timestamp": raw}).int64("timestamp") == expected


@pytest.mark.parametrize("raw", ["1.5", 1.5, True, "x", 2**63, [1, 2], {}])
def test_int64_refuses_other_values_naming_the_field(raw: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'timestamp'"):
        Message({"timestamp": raw}).int64("timestamp")


def test_double_reads_special_strings() -> None:
    msg = Message({"a": "NaN", "b": "-Infinity", "c": 3})
    assert math.isnan(msg.double("a", required=True))
    assert msg.double("b") == -math.inf
    assert msg.double("c") == 3.0


def test_double_refuses_text() -> None:
    with pytest.raises(InvalidParameterValue, match="'value'; expected a number"):
        Message({"value": "high"}).double("value")


@pytest.mark.parametrize(
    ("raw", "expected"), [(True, True), ("false", False), ("true", True)]
)
def test_boolean_accepts_json_and_query_spellings(raw: object, expected: bool) -> None:
    assert Message({"flag": raw}).boolean("flag") is expected


def test_boolean_refuses_numbers() -> None:
    with pytest.raises(InvalidParameterValue):
        Message({"flag": 1}).boolean("flag")


@pytest.mark.parametrize(("raw", "expected"), [("ALL", "ALL"), (2, "DELETED_ONLY")])
def test_enum_accepts_names_and_numbers(raw: object, expected: str) -> None:
    assert Message({"view_type": raw}).enum("view_type", VIEW_TYPES) == expected


def test_enum_refuses_unknown_members_listing_the_choices() -> None:
    with pytest.raises(InvalidParameterValue, match="ACTIVE_ONLY, DELETED_ONLY, ALL"):
        Message({"view_type": "SOME"}).enum("view_type", VIEW_TYPES)


def test_query_parameters_repeat_keys_into_lists() -> None:
    msg = Message.from_query([("run_ids", "a"), ("run_ids", "b"), ("metric_key", "m")])
    assert msg.strings("run_ids") == ["a", "b"]
    assert msg.strings("metric_key") == ["m"]
    assert msg.string("metric_key") == "m"


def test_a_scalar_sent_several_times_is_refused() -> None:
    msg = Message.from_query([("run_id", "a"), ("run_id", "b")])
    with pytest.raises(InvalidParameterValue, match="'run_id'"):
        msg.string("run_id")


def test_strings_refuses_non_string_items() -> None:
    with pytest.raises(InvalidParameterValue, match=r"'experiment_ids\[1\]'"):
        Message({"experiment_ids": ["1", None]}).strings("experiment_ids")


def test_string_reads_integer_ids_as_digits() -> None:
    assert Message({"experiment_id": 7}).string("experiment_id") == "7"


def test_message_refuses_a_non_object() -> None:
    with pytest.raises(InvalidParameterValue, match="'dataset'"):
        Message({"dataset": "x"}).message("dataset")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"run_id": "a"}, "a"), ({"run_uuid": "a"}, "a"),
     ({"run_id": "a", "run_uuid": "a"}, "a"), ({"runUuid": "a"}, "a")],
)  # fmt: skip
def test_read_run_id_takes_either_name(
    fields: dict[str, object], expected: str
) -> None:
    assert read_run_id(Message(fields)) == expected


def test_read_run_id_refuses_disagreeing_names_and_absence() -> None:
    with pytest.raises(InvalidParameterValue, match="two runs"):
        read_run_id(Message({"run_id": "a", "run_uuid": "b"}))
    with pytest.raises(InvalidParameterValue, match="'run_id'"):
        read_run_id(Message({}))
