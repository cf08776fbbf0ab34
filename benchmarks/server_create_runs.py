"""Creating many runs over HTTP, each with one ``log-batch`` of its data.

Timed: for each run, ``runs/create`` and then one ``runs/log-batch`` with 5
metrics, 5 params and 3 tags, over a keep-alive connection. MLflow gets
fewer runs by default (about 60 ms per run; ``--mlflow-full`` gives it all);
rates in runs per second are compared. Both servers run at once and create
their runs in turns, chunk by chunk (see :func:`measure_together`). A
search afterwards checks the count.
"""

from __future__ import annotations

import time
from typing import Any

from server_common import (
    HttpClient,
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    create_experiment,
    create_run,
    main,
)

BASE_TIMESTAMP = 1_700_000_000_000


def _create_runs(client: HttpClient, experiment_id: str, count: int) -> None:
    for i in range(count):
        run_id = create_run(client, experiment_id)
        body = {
            "run_id": run_id,
            "metrics": [
                {"key": f"m{j}", "value": i * 0.1 + j, "timestamp": BASE_TIMESTAMP}
                for j in range(5)
            ],
            "params": [{"key": f"p{j}", "value": str(i % (j + 2))} for j in range(5)],
            "tags": [{"key": f"t{j}", "value": f"group-{i % 7}"} for j in range(3)],
        }
        client.post("/runs/log-batch", body)


def _count_runs(client: HttpClient, experiment_id: str) -> int:
    count = 0
    token = None
    while True:
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000}
        if token:
            body["page_token"] = token
        page = client.post("/runs/search", body)
        count += len(page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return count


# Each measurement is cut into this many chunks, run on the sides in turns.
CHUNKS = 10


def measure_together(
    servers: dict[str, Server], sizes: dict[str, Sizes], repeats: dict[str, int]
) -> dict[str, list[Timing]]:
    """Create every side's runs in turns, chunk by chunk.

    A measurement creates a side's runs in :data:`CHUNKS` chunks; the sides
    take turns chunk by chunk, the first side changing every chunk, so a
    burst of load from elsewhere on the machine hits both sides alike. A
    measurement's time is the sum of its chunks'.
    """
    order = list(servers)
    for side in order:
        client = servers[side].client()
        _create_runs(client, create_experiment(client, "warm-up"), 5)
        client.close()
    timings = {
        side: Timing("create run + log-batch", "runs", sizes[side]["runs"])
        for side in order
    }
    for attempt in range(max(repeats.values())):
        sides = [side for side in order if attempt < repeats[side]]
        experiments = {}
        for side in sides:
            client = servers[side].client()
            experiments[side] = create_experiment(client, f"bench-{attempt}")
            client.close()
        seconds = dict.fromkeys(sides, 0.0)
        for chunk in range(CHUNKS):
            for side in sides if chunk % 2 == 0 else sides[::-1]:
                count = _chunk_size(sizes[side]["runs"], chunk)
                client = servers[side].connected_client()
                started = time.perf_counter()
                _create_runs(client, experiments[side], count)
                seconds[side] += time.perf_counter() - started
                client.close()
        for side in sides:
            timings[side].seconds.append(seconds[side])
            client = servers[side].client()
            found = _count_runs(client, experiments[side])
            client.close()
            wanted = sizes[side]["runs"]
            check(found == wanted, f"{side}: found {found} of {wanted} runs")
    return {side: [timings[side]] for side in order}


def _chunk_size(total: int, chunk: int) -> int:
    """How many of ``total`` runs chunk number ``chunk`` creates."""
    return total * (chunk + 1) // CHUNKS - total * chunk // CHUNKS


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    """One side alone: the same work as :func:`measure_together`."""
    side = server.side
    return measure_together({side: server}, {side: sizes}, {side: repeat})[side]


BENCHMARK = ServerBenchmark(
    name="server_create_runs",
    description="runs/create then one runs/log-batch per run",
    measure=measure,
    sizes={"runs": 10_000},
    quick_sizes={"runs": 300},
    mlflow_sizes={"runs": 500},
    targets={"create run + log-batch": 20},
    default_repeat=(1, 1),
    measure_together=measure_together,
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
