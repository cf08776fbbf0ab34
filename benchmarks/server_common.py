"""Shared runner for the Kiln-server-versus-MLflow-server benchmarks.

Each ``server_*.py`` script describes one :class:`ServerBenchmark`. For each
side it makes a fresh temporary folder, optionally seeds a fresh SQLite
database there through that project's own store (in a subprocess running that
project's Python, so MLflow is never imported here), starts the server on a
free loopback port with one worker, times HTTP requests against it and stops
it. Only HTTP requests are timed.

The load generator is this process: plain ``http.client`` connections kept
alive, one per client thread, with orjson for bodies (large bodies are
encoded before the clock starts). It needs a few tens of microseconds per
request, far less than either server, and it is the same for both sides.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
API = "/api/2.0/mlflow"
START_TIMEOUT = 120.0

Sizes = dict[str, int]


class HttpClient:
    """One keep-alive HTTP/1.1 connection speaking JSON to a tracking server."""

    def __init__(self, port: int) -> None:
        # orjson is imported here, not at the top: seeding imports this module
        # in MLflow's environment, which lacks it.
        import orjson

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self._loads = orjson.loads

    def post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        """POST ``body`` (a dict, or JSON already encoded, to time the server)."""
        return self.parse(self.post_raw(path, body))

    def post_raw(self, path: str, body: dict[str, Any] | bytes) -> bytes:
        """:meth:`post`, the answer left unparsed: the server's work ends
        with the last byte, and parsing a large answer (see :meth:`parse`)
        is the load generator's, alike for both sides."""
        payload = body if isinstance(body, bytes) else encode_body(body)
        headers = {"Content-Type": "application/json"}
        self.connection.request("POST", API + path, payload, headers)
        return self._read(path)

    def get(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        self.connection.request("GET", f"{API}{path}?{urlencode(query)}")
        return self._answer(path)

    def _answer(self, path: str) -> dict[str, Any]:
        return self.parse(self._read(path))

    def _read(self, path: str) -> bytes:
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}: {data[:300]!r}")
        return data

    def parse(self, data: bytes) -> dict[str, Any]:
        """An answer's JSON as a dict ({} for an empty body)."""
        answer: dict[str, Any] = self._loads(data) if data else {}
        return answer

    def close(self) -> None:
        self.connection.close()


def encode_body(body: dict[str, Any]) -> bytes:
    """``body`` as JSON bytes, for requests encoded before the clock starts."""
    import orjson

    return orjson.dumps(body)


@dataclass
class Server:
    """A running server: its side, port and main process."""

    side: str
    port: int
    process: subprocess.Popen[bytes]
    startup_seconds: float
    # The ``mlflow`` executable, for benchmarks that start more servers.
    mlflow: str
    # What seeding its database reported (ids), for benchmarks timed together.
    facts: dict[str, Any] = field(default_factory=dict)

    def client(self) -> HttpClient:
        return HttpClient(self.port)

    def connected_client(self) -> HttpClient:
        """A client whose connection is open already, for a clock started
        just before its first request (a server closes a connection left
        idle for seconds while the other side is timed)."""
        client = HttpClient(self.port)
        client.connection.connect()
        return client

    def rss_megabytes(self) -> float:
        """Resident memory of the server's process tree, in MB."""
        return sum(_rss_kb(pid) for pid in _process_tree(self.process.pid)) / 1024


@dataclass
class Timing:
    """Seconds of each measurement of one named case, and its work per measurement."""

    case: str
    unit: str
    items: int
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.items / self.median


# Seeds a database: (side, folder, sizes) -> JSON facts (ids) for the timing.
Seed = Callable[[str, Path, Sizes], dict[str, Any]]
# Times one side: (server, sizes, facts from the seed, repeats) -> timings.
Measure = Callable[[Server, Sizes, dict[str, Any], int], list[Timing]]
# Times every side in turns: (servers, sizes, repeats, all by side) -> timings
# by side. Each server's ``facts`` hold what the seed step reported.
MeasureTogether = Callable[
    [dict[str, Server], dict[str, Sizes], dict[str, int]], dict[str, list[Timing]]
]


@dataclass(frozen=True)
class ServerBenchmark:
    """One server workload, its sizes per side, and its targets by case."""

    name: str
    description: str
    measure: Measure
    sizes: Sizes
    quick_sizes: Sizes
    # MLflow's sizes when they are smaller than Kiln's (rates are compared).
    mlflow_sizes: Sizes | None = None
    seed: Seed | None = None
    targets: dict[str, float] = field(default_factory=dict)
    default_repeat: tuple[int, int] = (3, 2)
    # When set, both servers run at once and this times them in turns (and
    # seeds them over HTTP when ``seed`` is None), so load from the rest of a
    # shared machine falls on both sides alike.
    measure_together: MeasureTogether | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KILN_", "MLFLOW_"))
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    env.pop("PYTHONPATH", None)
    return env


def _server_command(side: str, folder: Path, port: int, mlflow: str) -> list[str]:
    if side == "kiln":
        executable = str(Path(sys.executable).with_name("kiln"))
        database = f"sqlite:///{folder / 'kiln.db'}"
    else:
        executable = mlflow
        database = f"sqlite:///{folder / 'mlflow.db'}"
    return [
        executable,
        "server",
        "--backend-store-uri",
        database,
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/health")
        response = connection.getresponse()
        ok = response.status == 200 and response.read().strip() == b"OK"
        connection.close()
        return ok
    except OSError:
        return False


@contextmanager
def running_server(side: str, folder: Path, mlflow: str) -> Iterator[Server]:
    """Start one side's server over ``folder`` and stop it afterwards."""
    port = free_port()
    log = (folder / f"{side}-server.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        _server_command(side, folder, port, mlflow),
        cwd=folder,
        env=_clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while not _healthy(port):
            if (
                process.poll() is not None
                or time.perf_counter() - started > START_TIMEOUT
            ):
                log.flush()
                tail = (folder / f"{side}-server.log").read_text()[-3000:]
                raise SystemExit(f"The {side} server did not start:\n{tail}")
            time.sleep(0.01)
        yield Server(side, port, process, time.perf_counter() - started, mlflow)
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session, so its group holds it and its
    # workers and nothing else. SIGTERM, as SIGINT is ignored when this
    # script itself runs in the background.
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _process_tree(root: int) -> list[int]:
    pids = [root]
    for pid in pids:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(child) for child in children)
    return pids


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def in_turns(repeats: dict[str, int]) -> Iterator[str]:
    """The sides in the order their measurements run: round by round, the
    first side changing every round, each side until its ``repeats`` are
    done; so a burst of load from elsewhere on the machine hits all sides
    alike."""
    order = list(repeats)
    for round_ in range(max(repeats.values())):
        for side in order if round_ % 2 == 0 else order[::-1]:
            if round_ < repeats[side]:
                yield side


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes, by the monotonic high-resolution clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def check(condition: bool, message: str) -> None:
    """Stop a benchmark whose workload did not do what it claims to time."""
    if not condition:
        raise SystemExit(f"Benchmark sanity check failed: {message}")


def create_run(client: HttpClient, experiment_id: str) -> str:
    """A new run in ``experiment_id``, made over HTTP (not timed by callers)."""
    body = {"experiment_id": experiment_id, "start_time": 1_700_000_000_000}
    run_id: str = client.post("/runs/create", body)["run"]["info"]["run_id"]
    return run_id


def create_experiment(client: HttpClient, name: str) -> str:
    experiment_id: str = client.post("/experiments/create", {"name": name})[
        "experiment_id"
    ]
    return experiment_id


def _parse_args(bench: ServerBenchmark) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=bench.description)
    parser.add_argument("--mlflow-server", help="the `mlflow` executable of a venv")
    parser.add_argument(
        "--mlflow-python",
        help="the Python of a venv with mlflow (its `mlflow` beside it is used)",
    )
    parser.add_argument("--repeat", type=int, help="measurements for Kiln")
    parser.add_argument("--mlflow-repeat", type=int, help="measurements for MLflow")
    parser.add_argument("--quick", action="store_true", help="use small sizes")
    parser.add_argument(
        "--mlflow-full",
        action="store_true",
        help="give MLflow the same sizes as Kiln even where that takes minutes",
    )
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    return parser.parse_args()


def _seed_in_subprocess(
    script: str, side: str, python: str, folder: Path, sizes: Sizes
) -> dict[str, Any]:
    env = _clean_env()
    if side == "kiln":
        env["PYTHONPATH"] = str(REPO_ROOT)
    command = [python, script, "--seed", side, "--folder", str(folder)]
    done = subprocess.run(
        [*command, "--sizes", json.dumps(sizes)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"Seeding the {side} database failed.")
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return facts


def _run_side(
    bench: ServerBenchmark,
    script: str,
    side: str,
    mlflow: str,
    sizes: Sizes,
    repeat: int,
) -> tuple[list[Timing], Server]:
    with tempfile.TemporaryDirectory(prefix=f"bench-server-{side}-") as name:
        folder = Path(name)
        facts: dict[str, Any] = {}
        if bench.seed is not None:
            python = sys.executable if side == "kiln" else _mlflow_python(mlflow)
            facts = _seed_in_subprocess(script, side, python, folder, sizes)
        with running_server(side, folder, mlflow) as server:
            return bench.measure(server, sizes, facts, repeat), server


def _run_together(
    bench: ServerBenchmark,
    script: str,
    sides: Sequence[str],
    mlflow: str,
    sizes: dict[str, Sizes],
    repeats: dict[str, int],
) -> dict[str, list[Timing]]:
    """Start every side's server, each over a fresh folder (seeded first when
    ``bench.seed`` is set), and time them together with
    ``bench.measure_together``."""
    if bench.measure_together is None:
        raise SystemExit(f"{bench.name} cannot time its sides together.")
    with ExitStack() as stack:
        servers: dict[str, Server] = {}
        for side in sides:
            prefix = f"bench-server-{side}-"
            folder = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix))
            )
            facts: dict[str, Any] = {}
            if bench.seed is not None:
                python = sys.executable if side == "kiln" else _mlflow_python(mlflow)
                facts = _seed_in_subprocess(script, side, python, folder, sizes[side])
            servers[side] = stack.enter_context(running_server(side, folder, mlflow))
            servers[side].facts = facts
        wanted = {side: sizes[side] for side in sides}
        return bench.measure_together(servers, wanted, repeats)


def _mlflow_executable(args: argparse.Namespace) -> str:
    """The ``mlflow`` to start, as an absolute path ("" when none is given).

    Servers start in temporary folders, so a relative path is made absolute
    here; absolute(), not resolve(), as a venv's files are often symlinks.
    """
    if args.mlflow_server:
        return str(Path(args.mlflow_server).absolute())
    if args.mlflow_python:
        return str(Path(args.mlflow_python).absolute().with_name("mlflow"))
    return ""


def _mlflow_python(mlflow: str) -> str:
    return str(Path(mlflow).with_name("python"))


def _sizes_for(bench: ServerBenchmark, args: argparse.Namespace) -> dict[str, Sizes]:
    if args.quick:
        return {"kiln": bench.quick_sizes, "mlflow": bench.quick_sizes}
    mlflow = bench.sizes if args.mlflow_full else bench.mlflow_sizes or bench.sizes
    return {"kiln": bench.sizes, "mlflow": mlflow}


def _report(
    bench: ServerBenchmark, sizes: dict[str, Sizes], results: dict[str, list[Timing]]
) -> None:
    print(f"{bench.name}: {bench.description}")
    for side, side_sizes in sizes.items():
        if side in results:
            print(f"  {side} sizes: {json.dumps(side_sizes)}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"  load average at the end: {load} ({os.cpu_count()} CPUs)")
    mlflow_by_case = {t.case: t for t in results.get("mlflow", [])}
    for timing in results["kiln"]:
        print(f"  {timing.case}:")
        other = mlflow_by_case.get(timing.case)
        print("    " + _format_line("kiln", timing))
        if other is not None:
            print("    " + _format_line("mlflow", other))
            print("    " + _ratio_line(bench, timing, other))


def _format_line(side: str, timing: Timing) -> str:
    spread = ", ".join(f"{s:.4f}" for s in timing.seconds)
    return (
        f"{side:<7} median {timing.median:9.4f} s  "
        f"{timing.rate:12,.1f} {timing.unit}/s  (n={len(timing.seconds)}: {spread})"
    )


def _ratio_line(bench: ServerBenchmark, kiln: Timing, mlflow: Timing) -> str:
    ratio = kiln.rate / mlflow.rate
    line = f"ratio (Kiln rate / MLflow rate): {ratio:,.1f}x"
    target = bench.targets.get(kiln.case)
    if target is not None:
        line += f"  target >= {target:g}x: {'met' if ratio >= target else 'NOT met'}"
    return line


def main(bench: ServerBenchmark, script: str) -> None:
    """Run ``bench`` as described by the command line of ``script``."""
    args = _parse_args(bench)
    if args.seed:
        if bench.seed is None:
            raise SystemExit(f"{bench.name} has no seed step.")
        facts = bench.seed(args.seed, Path(args.folder), json.loads(args.sizes))
        print(json.dumps(facts))
        return

    # Stopped with SIGTERM, still stop the servers (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    script = str(Path(script).resolve())
    sizes = _sizes_for(bench, args)
    repeats = {
        "kiln": args.repeat or bench.default_repeat[0],
        "mlflow": args.mlflow_repeat or args.repeat or bench.default_repeat[1],
    }
    mlflow = _mlflow_executable(args)
    sides: Sequence[str] = ("kiln", "mlflow") if mlflow else ("kiln",)
    results: dict[str, list[Timing]] = {}
    if bench.measure_together is not None:
        results = _run_together(bench, script, sides, mlflow, sizes, repeats)
    else:
        for side in sides:
            timings, _ = _run_side(
                bench, script, side, mlflow, sizes[side], repeats[side]
            )
            results[side] = timings
    _report(bench, sizes, results)
