from __future__ import annotations

import pytest

from kiln.entities import Metric, Param, RunTag
from kiln.tracking.batches import split_batch
from kiln.validation import validate_batch


def _items(
    metrics: int, params: int, tags: int
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    return (
        [Metric("m", float(i), 1, i) for i in range(metrics)],
        [Param(f"p{i}", "v") for i in range(params)],
        [RunTag(f"t{i}", "v") for i in range(tags)],
    )


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "sizes"),
    [
        (0, 0, 0, []),
        (10, 5, 5, [(10, 5, 5)]),
        (1000, 0, 0, [(1000, 0, 0)]),
        (1001, 0, 0, [(1000, 0, 0), (1, 0, 0)]),
        (1000, 100, 100, [(800, 100, 100), (200, 0, 0)]),
        (0, 250, 0, [(0, 100, 0), (0, 100, 0), (0, 50, 0)]),
        (2500, 150, 30, [(870, 100, 30), (950, 50, 0), (680, 0, 0)]),
    ],
)
def test_split_respects_limits_and_keeps_order(
    metrics: int, params: int, tags: int, sizes: list[tuple[int, int, int]]
) -> None:
    all_metrics, all_params, all_tags = _items(metrics, params, tags)
    batches = list(split_batch(all_metrics, all_params, all_tags))
    assert [(len(b.metrics), len(b.params), len(b.tags)) for b in batches] == sizes
    for batch in batches:
        validate_batch(batch.metrics, batch.params, batch.tags)
    assert [m for b in batches for m in b.metrics] == all_metrics
    assert [p for b in batches for p in b.params] == all_params
    assert [t for b in batches for t in b.tags] == all_tags
