"""The fluent API's state: the stack of active runs and the chosen experiment.

This is all the process-wide state the fluent API keeps, in one place. The
stack is shared by every thread of the process, so a worker thread logs to
the run its parent started. Runs still active when the interpreter exits
are ended as FINISHED.
"""

from __future__ import annotations

import atexit
import logging
import threading
from types import TracebackType

from kiln.entities import Run, RunData, RunInfo, RunInputs, RunOutputs, RunStatus
from kiln.errors import KilnError
from kiln.tracking import batching
from kiln.tracking.client import KilnClient

__all__ = [
    "ActiveRun",
    "active_experiment",
    "end",
    "flush_pending_logging",
    "last_run",
    "lock",
    "push",
    "set_active_experiment",
    "stack",
    "top",
]

_logger = logging.getLogger(__name__)

_stack: list[ActiveRun] = []
# Held while a run starts or ends, so two threads cannot both find the stack
# empty and each push a top-level run.
lock = threading.RLock()
_last_run: ActiveRun | None = None
# (tracking URI, experiment id) chosen by set_experiment; the URI is kept so
# an id from one store is never used against another.
_experiment: tuple[str, str] | None = None
_exit_hook_registered = False


class ActiveRun:
    """A run started by :func:`kiln.start_run`, usable as a context manager.

    ``info``, ``data`` and ``inputs`` are the run as it was when started; call
    :func:`kiln.get_run` for what has been logged since. Leaving a ``with``
    block ends the run: FAILED if the block raised, FINISHED otherwise.
    """

    __slots__ = ("_run", "client", "run_id")

    def __init__(self, run: Run, client: KilnClient) -> None:
        self._run = run
        self.client = client
        self.run_id = run.info.run_id

    @property
    def info(self) -> RunInfo:
        return self._run.info

    @property
    def data(self) -> RunData:
        return self._run.data

    @property
    def inputs(self) -> RunInputs:
        return self._run.inputs

    @property
    def outputs(self) -> RunOutputs:
        return self._run.outputs

    def __repr__(self) -> str:
        return f"<ActiveRun run_id={self.run_id!r} name={self.info.run_name!r}>"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
        end(self, status)


def stack() -> list[ActiveRun]:
    """The active runs, outermost first (the list itself: do not change it)."""
    return _stack


def top() -> ActiveRun | None:
    """The innermost active run, or None."""
    return _stack[-1] if _stack else None


def last_run() -> ActiveRun | None:
    """The run that was made active last, ended or not."""
    return _last_run


def push(active: ActiveRun) -> ActiveRun:
    """Make ``active`` the innermost active run."""
    global _last_run, _exit_hook_registered
    with lock:
        _stack.append(active)
        _last_run = active
        if not _exit_hook_registered:
            atexit.register(_end_all_at_exit)
            _exit_hook_registered = True
    return active


def end(active: ActiveRun, status: str = RunStatus.FINISHED) -> None:
    """End ``active`` and any run nested in it that is still open.

    Does nothing if ``active`` has already ended (say, by ``end_run`` inside
    its ``with`` block). Ending a run sends the logging still queued for it
    (see :mod:`kiln.tracking.batching`). The runs leave the stack even when
    the store refuses to end one, or reports logging it could not store, so
    the program can start the next; the first such error is raised once
    every run has been tried.
    """
    with lock:
        if active not in _stack:
            return
        index = _stack.index(active)
        ending = _stack[index:]
        del _stack[index:]

    failure: KilnError | None = None
    for current in reversed(ending):
        try:
            current.client.set_terminated(current.run_id, status)
        except KilnError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def flush_pending_logging() -> None:
    """Hand every queued metric, param and tag to the store before returning,
    then raise what the store refused (see :mod:`kiln.tracking.batching`).

    ``kiln.flush()`` calls it; ending a run flushes that run's logging. With
    a local database logging is synchronous and this returns at once.
    """
    batching.flush()


def active_experiment(tracking_uri: str) -> str | None:
    """The experiment id chosen with set_experiment for ``tracking_uri``."""
    if _experiment is not None and _experiment[0] == tracking_uri:
        return _experiment[1]
    return None


def set_active_experiment(tracking_uri: str, experiment_id: str) -> None:
    global _experiment
    _experiment = (tracking_uri, experiment_id)


def _end_all_at_exit() -> None:
    # Queued logging goes first, its failures logged as such, so they are
    # not reported as failures to end a run.
    batching.flush_at_exit()
    if not _stack:
        return
    outermost = _stack[0]
    try:
        end(outermost, RunStatus.FINISHED)
    except KilnError as exc:
        # The store may be gone at exit (a stopped server); say so instead
        # of printing a traceback after the program has finished.
        _logger.warning(
            "Could not end run %s or a run nested in it at exit: %s",
            outermost.run_id,
            exc.message,
        )
