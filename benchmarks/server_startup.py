"""Start-up: from launching the server to its first healthy ``/health``.

Each measurement launches the server on a fresh SQLite file (it creates the
schema) and polls ``/health`` every 10 ms. The first server's resident memory
(its whole process tree) is read once it has been idle for a second.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from server_common import (
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    main,
    running_server,
)

# Kiln's goal for the idle server's memory.
KILN_IDLE_RSS_MB = 150


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    time.sleep(1)
    rss = server.rss_megabytes()
    verdict = ""
    if server.side == "kiln":
        ok = rss < KILN_IDLE_RSS_MB
        verdict = f"  target < {KILN_IDLE_RSS_MB} MB: {'met' if ok else 'NOT met'}"
    print(f"{server.side} server idle RSS: {rss:.1f} MB{verdict}")
    check(rss > 0, "the server's memory could not be read")

    timing = Timing("start to healthy /health", "starts", 1)
    timing.seconds.append(server.startup_seconds)
    for _ in range(repeat - 1):
        with (
            tempfile.TemporaryDirectory(prefix="bench-start-") as name,
            running_server(server.side, Path(name), server.mlflow) as again,
        ):
            timing.seconds.append(again.startup_seconds)
    return [timing]


BENCHMARK = ServerBenchmark(
    name="server_startup",
    description="launch to the first healthy /health on a fresh database",
    measure=measure,
    sizes={},
    quick_sizes={},
    targets={"start to healthy /health": 10},
    default_repeat=(5, 3),
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
