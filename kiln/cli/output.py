"""How commands print: aligned plain tables for people, JSON for scripts.

Everything goes through click so output encodes correctly and tests can
capture it; notes for people (such as "more results") go to stderr so the
table or JSON on stdout stays clean.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click

from kiln.entities import Experiment, FileInfo, Run

Row = Sequence[object]


def echo_json(value: object) -> None:
    """Print ``value`` as indented JSON; NaN and infinities become strings."""
    click.echo(json.dumps(_json_safe(value), indent=2, ensure_ascii=False))


def _json_safe(value: object) -> object:
    # JSON has no NaN or infinity; MLflow's wire format spells them as strings.
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def echo_table(headers: Sequence[str], rows: Sequence[Row], empty: str) -> None:
    """Print rows under headers in aligned columns, or ``empty`` if no rows."""
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(header), *(len(row[i]) for row in cells))
        for i, header in enumerate(headers)
    ]
    for line in [list(headers), *cells]:
        padded = [text.ljust(width) for text, width in zip(line, widths, strict=True)]
        click.echo("  ".join(padded).rstrip())


def echo_fields(pairs: Sequence[tuple[str, object]], indent: str = "") -> None:
    """Print ``label value`` lines with the values aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        click.echo(f"{indent}{label.ljust(width)}  {_cell(value)}".rstrip())


def echo_next_page(token: str | None) -> None:
    """Tell a person how to fetch the next page, on stderr."""
    if token:
        click.echo(f"More results: repeat with --page-token {token}", err=True)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_time(ms: int | None) -> str | None:
    """A millisecond timestamp as local ``YYYY-MM-DD HH:MM:SS``."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int | None, end_ms: int | None) -> str | None:
    """The time between two millisecond timestamps, such as ``1m 05s``."""
    if start_ms is None or end_ms is None:
        return None
    seconds = max(end_ms - start_ms, 0) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_size(size: int | None) -> str | None:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``3.2 MiB``..."""
    if size is None:
        return None
    if size < 1024:
        return f"{size} B"
    units = ("KiB", "MiB", "GiB", "TiB")
    amount = size / 1024
    index = 0
    while amount >= 1024 and index < len(units) - 1:
        amount /= 1024
        index += 1
    return f"{amount:.1f} {units[index]}"


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    """An experiment as a JSON object with MLflow's field names."""
    return dataclasses.asdict(experiment)


def run_to_dict(run: Run) -> dict[str, Any]:
    """A run as ``{info, data, inputs, outputs}``; metrics map key to latest value."""
    return {
        "info": dataclasses.asdict(run.info),
        "data": {
            "metrics": run.data.metrics,
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
        },
        "inputs": dataclasses.asdict(run.inputs),
        "outputs": dataclasses.asdict(run.outputs),
    }


def file_to_dict(info: FileInfo) -> dict[str, Any]:
    """A listed artifact as ``{path, is_dir, file_size}``."""
    return dataclasses.asdict(info)
