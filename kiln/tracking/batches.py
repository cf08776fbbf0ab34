"""Split large log-batch requests into pieces MLflow's limits accept.

A server refuses a batch of more than 1000 metrics, 100 params, 100 tags or
1000 items in all. The client splits what the caller hands it so any amount
can be logged; each piece is stored atomically, the whole is not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kiln.entities import Metric, Param, RunTag
from kiln.validation import (
    MAX_BATCH_ENTITIES,
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
)

__all__ = ["Batch", "split_batch"]


@dataclass(frozen=True, slots=True)
class Batch:
    """One log-batch request's worth of metrics, params and tags."""

    metrics: Sequence[Metric] = ()
    params: Sequence[Param] = ()
    tags: Sequence[RunTag] = ()


def split_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[Batch]:
    """Yield batches within the limits, params and tags first, then metrics.

    Params go out first so a refused param (a changed value) stops the
    logging before any metric of the same call is stored. Nothing to log
    yields nothing.
    """
    p = t = m = 0
    while p < len(params) or t < len(tags) or m < len(metrics):
        chunk_params = params[p : p + MAX_BATCH_PARAMS]
        chunk_tags = tags[t : t + MAX_BATCH_TAGS]
        room = min(
            MAX_BATCH_METRICS, MAX_BATCH_ENTITIES - len(chunk_params) - len(chunk_tags)
        )
        chunk_metrics = metrics[m : m + room]
        yield Batch(chunk_metrics, chunk_params, chunk_tags)
        p += len(chunk_params)
        t += len(chunk_tags)
        m += len(chunk_metrics)
