"""Bounded waits for a database's write lock, for callers that must not block.

The tracking server runs short store calls on its event loop when the
database is a local SQLite file. A SQLite write first takes the database's
write lock, and while another connection (another server worker, a training
script) holds it, the store waits up to its busy timeout of several seconds:
on the event loop, that would stall every request of the worker.

Inside :func:`bounded_lock_wait` a store takes the write lock only if it is
free within the given wait; otherwise it raises :class:`WriteLockBusy`
before anything was written, and the caller runs the same call again where
waiting harms nothing (a worker thread). The bound holds until a write in
the block gets the lock: from then on, running the call again would repeat
that write, so any later one waits as usual.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from kiln.errors import StorageUnavailable

__all__ = [
    "WriteLockBusy",
    "bounded_lock_wait",
    "lock_wait_allowed",
    "note_lock_taken",
]


class WriteLockBusy(StorageUnavailable):
    """The write lock was not free within a bounded wait; nothing was written."""


class _Bound:
    __slots__ = ("taken", "wait_ms")

    def __init__(self, wait_ms: int) -> None:
        self.wait_ms = wait_ms
        self.taken = False


_bound: ContextVar[_Bound | None] = ContextVar("kiln_lock_wait", default=None)


class bounded_lock_wait:
    """Let the writes in the block wait at most ``wait_ms`` for the lock,
    until one of them gets it."""

    __slots__ = ("_token", "_wait_ms")

    def __init__(self, wait_ms: int = 0) -> None:
        self._wait_ms = wait_ms
        self._token: Token[_Bound | None] | None = None

    def __enter__(self) -> None:
        self._token = _bound.set(_Bound(self._wait_ms))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _bound.reset(self._token)
            self._token = None


def lock_wait_allowed() -> int | None:
    """For stores, about to take the write lock: the milliseconds they may
    wait for it, or None for their usual wait.

    A store given a bound raises :class:`WriteLockBusy` when the lock stays
    taken, and calls :func:`note_lock_taken` once it has the lock.
    """
    bound = _bound.get()
    if bound is None or bound.taken:
        return None
    return bound.wait_ms


def note_lock_taken() -> None:
    """For stores: a bounded wait got the lock, so later writes in the same
    :func:`bounded_lock_wait` block wait as usual."""
    bound = _bound.get()
    if bound is not None:
        bound.taken = True
