"""Background delivery of metrics, params and tags to a tracking server.

Against a server every logged value would otherwise cost a round trip, which
dominates a training loop. So when the store is a
:class:`~kiln.store.rest.RestStore`, :func:`wrap` puts a
:class:`BatchingStore` in front of it: logging calls only queue their items
and return, and one background thread per process sends them as
``log-batch`` requests, merging consecutive calls for the same run up to
MLflow's limits. Items leave in the order they were logged.

Every other store call (reading a run, ending it, deleting a tag …) first
waits until the queue is empty, so a program always reads what it logged and
a ``delete_tag`` cannot overtake the ``set_tag`` before it.

A refused request (a param logged again with another value, a server still
down after its retries) is kept and raised at the next flush point: when the
run ends (``kiln.end_run``, ``KilnClient.set_terminated``), at
``kiln.flush()``, and, as a logged error, at interpreter exit. The error
names the run and the keys that were not stored.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.entities import Metric, Param, RunTag
from kiln.errors import KilnError
from kiln.store.base import TrackingStore
from kiln.tracking.batches import split_batch
from kiln.validation import (
    MAX_BATCH_ENTITIES,
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
)

__all__ = ["BatchingStore", "flush", "flush_at_exit", "wrap"]

_logger = logging.getLogger(__name__)

# Items (metrics + params + tags) that may wait before logging blocks the
# caller: back-pressure keeps memory bounded when the server is slower than
# the training loop.
QUEUE_CAPACITY = 10_000
# After the first item arrives the sender waits this long for more, so a
# loop logging one metric at a time still fills requests.
_LINGER_SECONDS = 0.05
# Merged requests stay well under the 1 MB body limit servers enforce.
_MAX_REQUEST_BYTES = 500_000
# Keys shown per kind in a failure message.
_SHOWN_KEYS = 5


@dataclass(frozen=True, slots=True)
class _Call:
    """What one logging call handed over: one run's items, within the limits."""

    store: TrackingStore
    run_id: str
    metrics: tuple[Metric, ...] = ()
    params: tuple[Param, ...] = ()
    tags: tuple[RunTag, ...] = ()

    @property
    def size(self) -> int:
        return len(self.metrics) + len(self.params) + len(self.tags)

    @property
    def weight(self) -> int:
        """A rough size in bytes of the call's JSON."""
        params = sum(len(p.key) + len(p.value) for p in self.params)
        tags = sum(len(t.key) + len(t.value) for t in self.tags)
        return params + tags + 80 * self.size


@dataclass(frozen=True, slots=True)
class _Failure:
    call: _Call
    error: BaseException

    def describe(self) -> str:
        kinds = [
            ("params", [p.key for p in self.call.params]),
            ("tags", [t.key for t in self.call.tags]),
            ("metrics", [m.key for m in self.call.metrics]),
        ]
        parts = [f"{kind} {_keys(keys)}" for kind, keys in kinds if keys]
        items = " and ".join([", ".join(parts[:-1]), parts[-1]] if parts[1:] else parts)
        reason = getattr(self.error, "message", None) or repr(self.error)
        return (
            f"Could not log {items} to run {self.call.run_id!r}: {reason.rstrip('.')}"
        )


def _keys(keys: list[str]) -> str:
    unique = list(dict.fromkeys(keys))
    shown = ", ".join(map(repr, unique[:_SHOWN_KEYS]))
    more = len(unique) - _SHOWN_KEYS
    return f"[{shown}{f', and {more} more' if more > 0 else ''}]"


class _Request:
    """Consecutive calls for one run, gathered into one log-batch request."""

    def __init__(self, first: _Call) -> None:
        self.calls = [first]
        self.metrics = len(first.metrics)
        self.params = len(first.params)
        self.tags = len(first.tags)
        self.weight = first.weight
        self.param_keys = {p.key for p in first.params}
        self.tag_keys = {t.key for t in first.tags}

    def add(self, call: _Call) -> bool:
        """Take ``call`` if it fits; return whether it did."""
        head = self.calls[0]
        if call.store is not head.store or call.run_id != head.run_id:
            return False
        metrics = self.metrics + len(call.metrics)
        params = self.params + len(call.params)
        tags = self.tags + len(call.tags)
        if (
            metrics > MAX_BATCH_METRICS
            or params > MAX_BATCH_PARAMS
            or tags > MAX_BATCH_TAGS
            or metrics + params + tags > MAX_BATCH_ENTITIES
            or self.weight + call.weight > _MAX_REQUEST_BYTES
        ):
            return False
        # A request holds each param and tag key once; a repeated key (maybe
        # with a new value the server must refuse) goes in the next request.
        new_params = {p.key for p in call.params}
        new_tags = {t.key for t in call.tags}
        if self.param_keys & new_params or self.tag_keys & new_tags:
            return False

        self.calls.append(call)
        self.metrics, self.params, self.tags = metrics, params, tags
        self.weight += call.weight
        self.param_keys |= new_params
        self.tag_keys |= new_tags
        return True


def _merge(calls: list[_Call]) -> _Call:
    first = calls[0]
    return _Call(
        first.store,
        first.run_id,
        tuple(m for call in calls for m in call.metrics),
        tuple(p for call in calls for p in call.params),
        tuple(t for call in calls for t in call.tags),
    )


class _Sender:
    """The process-wide queue and the one thread that empties it."""

    def __init__(self, capacity: int = QUEUE_CAPACITY) -> None:
        self._capacity = capacity
        self._changed = threading.Condition()
        self._pending: deque[_Call] = deque()
        self._pending_items = 0
        self._sending = False
        self._waiting = 0
        self._failures: list[_Failure] = []
        self._thread: threading.Thread | None = None
        self._exit_hook = False

    def submit(self, call: _Call) -> None:
        """Queue ``call``, blocking while the queue is full."""
        with self._changed:
            while self._pending and self._pending_items >= self._capacity:
                self._changed.wait()
            self._pending.append(call)
            self._pending_items += call.size
            self._start()
            # The sender waits for a first item, then lingers until a request
            # is full; only those two moments need waking it.
            if len(self._pending) == 1 or self._pending_items >= MAX_BATCH_ENTITIES:
                self._changed.notify_all()

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            # A daemon thread never holds the interpreter open; the exit hook
            # empties the queue before the interpreter stops.
            self._thread = threading.Thread(
                target=self._run, name="kiln-batch-logging", daemon=True
            )
            self._thread.start()
        if not self._exit_hook:
            atexit.register(flush_at_exit)
            self._exit_hook = True

    def drain(self) -> None:
        """Wait until every queued item has been sent (or has failed)."""
        with self._changed:
            if threading.current_thread() is self._thread:
                return
            self._waiting += 1
            self._changed.notify_all()
            try:
                while self._pending or self._sending:
                    self._changed.wait()
            finally:
                self._waiting -= 1

    def take_failures(self, run_ids: Collection[str] | None) -> list[_Failure]:
        """Remove and return the failures of ``run_ids`` (of every run if None)."""
        with self._changed:
            taken = [
                f for f in self._failures if run_ids is None or f.call.run_id in run_ids
            ]
            self._failures = [f for f in self._failures if f not in taken]
            return taken

    def _run(self) -> None:
        while True:
            calls = self._next_request()
            failures = _deliver(calls)
            with self._changed:
                self._failures.extend(failures)
                self._sending = False
                self._changed.notify_all()

    def _next_request(self) -> list[_Call]:
        """Wait for work and take the calls the next request will carry."""
        with self._changed:
            while not self._pending:
                self._changed.wait()
            deadline = time.monotonic() + _LINGER_SECONDS
            while self._pending_items < MAX_BATCH_ENTITIES and not self._waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)

            request = _Request(self._pending.popleft())
            while self._pending and request.add(self._pending[0]):
                self._pending.popleft()
            self._pending_items -= sum(call.size for call in request.calls)
            self._sending = True
            self._changed.notify_all()
            return request.calls

    def reset_after_fork(self) -> None:
        # The child has no sender thread; its copy of the queue belongs to
        # the parent, which sends it.
        self._changed = threading.Condition()
        self._pending.clear()
        self._pending_items = 0
        self._sending = False
        self._waiting = 0
        self._failures = []
        self._thread = None


def _deliver(calls: list[_Call]) -> list[_Failure]:
    """Send ``calls`` as one request; return what could not be stored.

    A request is all or nothing. When a merged request is refused for its
    content, each call is sent on its own, so only the call that caused the
    refusal is lost, as if it had been sent right away.
    """
    try:
        _send(_merge(calls))
        return []
    except Exception as exc:
        # Whatever a request raised is reported at the flush point, rather
        # than killing the sender thread and hanging every flush.
        if len(calls) == 1 or not _is_refusal(exc):
            return [_Failure(call, exc) for call in calls]
    failures: list[_Failure] = []
    for call in calls:
        failures.extend(_deliver([call]))
    return failures


def _is_refusal(error: Exception) -> bool:
    """A 4xx answer about the request's content; another request may pass."""
    status = getattr(error, "http_status", 0)
    return isinstance(error, KilnError) and 400 <= status < 500 and status != 429


def _send(call: _Call) -> None:
    for batch in split_batch(call.metrics, call.params, call.tags):
        call.store.log_batch(call.run_id, batch.metrics, batch.params, batch.tags)


_sender = _Sender()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_sender.reset_after_fork)


def _error_for(failures: list[_Failure]) -> KilnError:
    """One error for ``failures``: the first one's kind, naming them all."""
    first = failures[0]
    message = first.describe()
    if len(failures) > 1:
        others = "; ".join(f.describe() for f in failures[1:4])
        message += f" (and {len(failures) - 1} more failed logging call(s): {others})"
    message += "."
    original = first.error
    if isinstance(original, KilnError):
        error = type(original)(message)
        error.error_code = original.error_code
        error.http_status = original.http_status
    else:
        error = KilnError(message)
    error.__cause__ = original
    return error


def flush(run_ids: Collection[str] | None = None) -> None:
    """Wait until every queued item reached the server, then raise the
    failures of ``run_ids`` (of every run when None) as one Kiln error."""
    _sender.drain()
    failures = _sender.take_failures(run_ids)
    if failures:
        raise _error_for(failures)


def flush_at_exit() -> None:
    """Send what is queued and log, rather than raise, what failed."""
    try:
        flush()
    except KilnError as exc:
        _logger.error("Logging queued for the tracking server was lost: %s", exc)


class BatchingStore:
    """A store whose metric, param and tag logging goes through the queue.

    Every other method of the wrapped store is reached unchanged, after the
    queue has emptied.
    """

    def __init__(self, store: TrackingStore) -> None:
        self.wrapped = store

    def __repr__(self) -> str:
        return f"BatchingStore({self.wrapped!r})"

    def log_metric(self, run_id: str, metric: Metric) -> None:
        _sender.submit(_Call(self.wrapped, run_id, metrics=(metric,)))

    def log_param(self, run_id: str, param: Param) -> None:
        _sender.submit(_Call(self.wrapped, run_id, params=(param,)))

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        _sender.submit(_Call(self.wrapped, run_id, tags=(tag,)))

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        for batch in split_batch(metrics, params, tags):
            call = _Call(
                self.wrapped,
                run_id,
                tuple(batch.metrics),
                tuple(batch.params),
                tuple(batch.tags),
            )
            _sender.submit(call)

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> Any:
        """Update the run once its queued items are sent; ending a run (an
        ``end_time``) then raises what failed to be logged to it."""
        _sender.drain()
        info = self.wrapped.update_run_info(run_id, run_status, end_time, run_name)
        if end_time is not None:
            flush([run_id])
        return info

    def __getattr__(self, name: str) -> Any:
        if name == "wrapped":
            # Only reached before __init__ ran (a copy or unpickling).
            raise AttributeError(name)
        attribute = getattr(self.wrapped, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def after_queue(*args: Any, **kwargs: Any) -> Any:
            _sender.drain()
            return attribute(*args, **kwargs)

        return after_queue


def wrap(store: TrackingStore) -> TrackingStore:
    """``store`` behind a :class:`BatchingStore` if it talks to a server."""
    # A RestStore exists only once its module is loaded; checking sys.modules
    # keeps httpx out of programs that log to a local database.
    rest = sys.modules.get("kiln.store.rest.store")
    if rest is None or not isinstance(store, rest.RestStore):
        return store
    return BatchingStore(store)
