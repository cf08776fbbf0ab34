from __future__ import annotations

import json
from datetime import datetime

import pytest

from kiln.cli.output import (
    echo_fields,
    echo_json,
    echo_table,
    format_duration,
    format_size,
    format_time,
)


def test_table_columns_are_aligned_and_padded_by_two_spaces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    echo_table(["ID", "NAME"], [("1", "alpha"), ("22", None)], empty="none")

    assert capsys.readouterr().out.splitlines() == [
        "ID  NAME",
        "1   alpha",
        "22  -",
    ]


def test_empty_table_prints_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    echo_table(["ID"], [], empty="No runs found.")

    assert capsys.readouterr().out == "No runs found.\n"


def test_fields_align_their_values(capsys: pytest.CaptureFixture[str]) -> None:
    echo_fields([("Run", "abc"), ("Experiment", 0.5)], indent="  ")

    assert capsys.readouterr().out.splitlines() == [
        "  Run         abc",
        "  Experiment  0.5",
    ]


def test_json_spells_non_finite_numbers_as_strings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    echo_json({"m": [float("nan"), float("inf"), float("-inf"), 1.5], "t": ("a",)})

    assert json.loads(capsys.readouterr().out) == {
        "m": ["NaN", "Infinity", "-Infinity", 1.5],
        "t": ["a"],
    }


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 1_500, "1.5s"),
        (0, 65_000, "1m 05s"),
        (0, 3_725_000, "1h 02m"),
        (5_000, 1_000, "0.0s"),
        (0, None, None),
        (None, 10, None),
    ],
)
def test_format_duration(
    start: int | None, end: int | None, expected: str | None
) -> None:
    assert format_duration(start, end) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (None, None),
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (3 * 1024**5, "3072.0 TiB"),
    ],
)
def test_format_size(size: int | None, expected: str | None) -> None:
    assert format_size(size) == expected


def test_format_time_is_local_time_to_the_second() -> None:
    ms = 1_700_000_000_123

    assert format_time(ms) == datetime.fromtimestamp(ms / 1000).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert format_time(None) is None
