"""Progress bars for large artifact transfers, shown only to someone watching.

A transfer of at least :data:`PROGRESS_MIN_BYTES` gets a bar on stderr when
stderr is a terminal, or in a Jupyter notebook; anywhere else (logs, CI,
pipes) nothing is written. tqdm draws the bar when it is installed (in a
notebook, its widget); otherwise a plain one-line bar is redrawn in place.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol

__all__ = ["PROGRESS_MIN_BYTES", "ProgressBar", "is_interactive", "progress_bar"]

# Smaller files take a moment; a bar would only flicker.
PROGRESS_MIN_BYTES = 10 * 1024 * 1024
# The plain bar redraws at most this often, so a fast copy costs no time.
_REDRAW_SECONDS = 0.2
_WIDTH = 30


class ProgressBar(Protocol):
    """What a transfer reports its progress to."""

    def update(self, n: int) -> object:
        """Count ``n`` more bytes as transferred."""
        ...

    def close(self) -> None: ...


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    if get_ipython is None:
        return False
    ipython = get_ipython()
    # A terminal IPython has no kernel; it is covered by the tty check.
    return ipython is not None and hasattr(ipython, "kernel")


def is_interactive(stream: IO[str] | None = None) -> bool:
    """True when ``stream`` (stderr by default) is a terminal or we run in a
    notebook: the places where a person sees a bar."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty()) or _in_notebook()


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


class _PlainBar:
    """A bar redrawn in place with ``\\r``: ``model.bin [=====     ] 52%``."""

    def __init__(self, description: str, total: int, stream: IO[str]) -> None:
        self._description = description
        self._total = max(total, 1)
        self._stream = stream
        self._done = 0
        self._drawn_at = 0.0

    def update(self, n: int) -> None:
        self._done += n
        now = time.monotonic()
        if now - self._drawn_at >= _REDRAW_SECONDS:
            self._drawn_at = now
            self._draw()

    def _draw(self) -> None:
        fraction = min(self._done / self._total, 1.0)
        filled = int(fraction * _WIDTH)
        bar = "=" * filled + " " * (_WIDTH - filled)
        self._stream.write(
            f"\r{self._description} [{bar}] {fraction:4.0%} "
            f"{_human(self._done)} of {_human(self._total)}"
        )
        self._stream.flush()

    def close(self) -> None:
        self._draw()
        self._stream.write("\n")
        self._stream.flush()


def _tqdm_bar(description: str, total: int, stream: IO[str]) -> ProgressBar | None:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    bar: ProgressBar = tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=stream,
        leave=False,
    )
    return bar


def progress_bar(
    description: str, total: int | None, stream: IO[str] | None = None
) -> ProgressBar:
    """A bar for a transfer of ``total`` bytes, or a silent stand-in when the
    transfer is small, its size unknown, or nobody is watching."""
    stream = sys.stderr if stream is None else stream
    if total is None or total < PROGRESS_MIN_BYTES or not is_interactive(stream):
        return _Silent()
    return _tqdm_bar(description, total, stream) or _PlainBar(
        description, total, stream
    )
