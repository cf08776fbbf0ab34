"""Progress bars: shown for large transfers to a terminal, silent elsewhere."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiln.artifacts import get_repository
from kiln.artifacts.progress import PROGRESS_MIN_BYTES, progress_bar
from kiln.store.rest import RestClient, RestConfig


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


@pytest.mark.parametrize(
    ("stream", "total"),
    [
        (io.StringIO(), PROGRESS_MIN_BYTES * 10),
        (Terminal(), PROGRESS_MIN_BYTES - 1),
        (Terminal(), None),
    ],
    ids=["not-a-terminal", "small", "size-unknown"],
)
def test_nothing_is_written_unless_a_large_transfer_is_watched(
    stream: io.StringIO, total: int | None, no_tqdm: None
) -> None:
    bar = progress_bar("Uploading x", total, stream)
    bar.update(PROGRESS_MIN_BYTES)
    bar.close()

    assert stream.getvalue() == ""


def test_the_plain_bar_redraws_one_line_and_ends_it(no_tqdm: None) -> None:
    terminal = Terminal()

    bar = progress_bar("Uploading model.bin", 4 * PROGRESS_MIN_BYTES, terminal)
    bar.update(PROGRESS_MIN_BYTES)
    bar.update(3 * PROGRESS_MIN_BYTES)
    bar.close()

    text = terminal.getvalue()
    assert text.startswith("\rUploading model.bin [")
    assert text.endswith("100% 40.0 MiB of 40.0 MiB\n")
    assert text.count("\n") == 1


def test_tqdm_draws_the_bar_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class FakeTqdm:
        def __init__(self, **options: Any) -> None:
            made.append(options)

        def update(self, n: int) -> None:
            made[-1]["done"] = made[-1].get("done", 0) + n

        def close(self) -> None:
            made[-1]["closed"] = True

    module = types.ModuleType("tqdm.auto")
    module.tqdm = FakeTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    terminal = Terminal()

    bar = progress_bar("Downloading w.bin", PROGRESS_MIN_BYTES, terminal)
    bar.update(PROGRESS_MIN_BYTES)
    bar.close()

    [options] = made
    assert options["total"] == PROGRESS_MIN_BYTES
    assert options["file"] is terminal
    assert options["done"] == PROGRESS_MIN_BYTES and options["closed"]


class Sink(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200, json={})


def test_a_large_upload_shows_a_bar_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_tqdm: None
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(PROGRESS_MIN_BYTES))
    small = tmp_path / "small.bin"
    small.write_bytes(bytes(100))
    http = RestClient("http://t:1", RestConfig(max_retries=0), transport=Sink())
    repository = get_repository("mlflow-artifacts:/1", http=http)

    repository.log_artifact(small)
    assert terminal.getvalue() == ""
    repository.log_artifact(big)

    assert "Uploading big.bin" in terminal.getvalue()
    assert terminal.getvalue().endswith("100% 10.0 MiB of 10.0 MiB\n")
