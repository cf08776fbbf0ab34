"""The model registry's reads over many models: searches, aliases, latest versions.

Seeded (not timed) through each server's own REST API, with the same requests
on both sides, from a few client threads: per model a run (whose artifact
root holds the versions' sources), the registered model with a description
and three tags, five versions with two tags each, some versions moved to
Production, Staging or Archived, and one or two aliases. Both servers run
at once and are timed in turns (see :func:`measure_together`), after one
untimed warm-up per case, each measurement being ``searches`` searches in a
row or one request for each of ``lookups`` models:

- ``registered-models/search`` of every model, in pages of up to 1000;
- ``registered-models/search`` with ``name LIKE``;
- ``model-versions/search`` by ``name = '…'``, one request per model;
- ``model-versions/search`` with a version tag filter, in pages of up to 1000;
- ``registered-models/alias`` (GET), one request per model;
- ``registered-models/get-latest-versions``, one request per model.

Every answer is checked against what was seeded: counts, names, versions,
stages, aliases and order.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from server_common import (
    HttpClient,
    Server,
    ServerBenchmark,
    Sizes,
    Timing,
    check,
    create_experiment,
    in_turns,
    main,
)

VERSIONS = 5
PAGE = 1000
SEED_THREADS = 4
TEAMS = ("vision", "nlp", "tabular")
QUALITIES = ("gold", "silver", "bronze")
NAME_LIKE = "name LIKE 'model-01%'"
TAG_FILTER = "tags.quality = 'gold'"
MODELS = "/registered-models"
VERSIONS_PATH = "/model-versions"


def model_name(i: int) -> str:
    return f"model-{i:04d}"


@dataclass(frozen=True)
class Layout:
    """What is seeded for model ``i``: stages and aliases by version."""

    i: int

    @property
    def name(self) -> str:
        return model_name(self.i)

    def quality(self, version: int) -> str:
        return QUALITIES[(self.i + version) % len(QUALITIES)]

    def stages(self) -> dict[int, str]:
        """Versions moved out of None, in the order they are moved."""
        moved: dict[int, str] = {}
        if self.i % 2 == 0:
            moved[3] = "Production"
        if self.i % 3 == 0:
            moved[5] = "Staging"
        if self.i % 5 == 0:
            moved[1] = "Archived"
        return moved

    def aliases(self) -> dict[str, int]:
        found = {"champion": VERSIONS}
        if self.i % 2 == 0:
            found["challenger"] = VERSIONS - 1
        return found

    def latest(self) -> dict[str, int]:
        """The highest version in each stage that has one."""
        by_stage: dict[str, int] = {}
        stages = self.stages()
        for version in range(1, VERSIONS + 1):
            by_stage[stages.get(version, "None")] = version
        return by_stage


# -- seeding over HTTP (not timed) ------------------------------------------
def _seed_model(client: HttpClient, experiment_id: str, layout: Layout) -> None:
    run = client.post(
        "/runs/create",
        {"experiment_id": experiment_id, "start_time": 1_700_000_000_000},
    )["run"]["info"]
    name = layout.name
    client.post(
        f"{MODELS}/create",
        {
            "name": name,
            "description": f"Benchmark model {layout.i}",
            "tags": [
                {"key": "team", "value": TEAMS[layout.i % len(TEAMS)]},
                {"key": "owner", "value": f"owner-{layout.i % 10}"},
                {"key": "tier", "value": str(layout.i % 4)},
            ],
        },
    )
    root = run["artifact_uri"].rstrip("/")
    for version in range(1, VERSIONS + 1):
        answer = client.post(
            f"{VERSIONS_PATH}/create",
            {
                "name": name,
                "source": f"{root}/model-v{version}",
                "run_id": run["run_id"],
                "tags": [
                    {"key": "quality", "value": layout.quality(version)},
                    {"key": "commit", "value": f"{layout.i:04d}{version}"},
                ],
            },
        )
        check(
            answer["model_version"]["version"] == str(version),
            f"{name} got version {answer['model_version']['version']}",
        )
    for version, stage in layout.stages().items():
        client.post(
            f"{VERSIONS_PATH}/transition-stage",
            {
                "name": name,
                "version": str(version),
                "stage": stage,
                "archive_existing_versions": False,
            },
        )
    for alias, version in layout.aliases().items():
        client.post(
            f"{MODELS}/alias",
            {"name": name, "alias": alias, "version": str(version)},
        )


def seed_over_http(server: Server, models: int) -> float:
    """Register ``models`` models on ``server``; return the seconds it took."""
    started = time.perf_counter()
    setup = server.client()
    experiment_id = create_experiment(setup, "registry-bench")
    setup.close()
    local = threading.local()
    clients: list[HttpClient] = []
    lock = threading.Lock()

    def seed_one(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = server.client()
            with lock:
                clients.append(client)
        _seed_model(client, experiment_id, Layout(i))

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(seed_one, range(models)))
    for client in clients:
        client.close()
    return time.perf_counter() - started


# -- the timed cases ---------------------------------------------------------
def _all_pages(
    client: HttpClient, path: str, query: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.get(path, {**query, "page_token": token} if token else query)
        found.extend(page.get(key, []))
        token = page.get("next_page_token")
        if not token:
            return found


def _search_models(client: HttpClient, filter_string: str) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"max_results": PAGE}
    if filter_string:
        query["filter"] = filter_string
    return _all_pages(client, f"{MODELS}/search", query, "registered_models")


def _check_models(found: list[dict[str, Any]], expected: list[Layout]) -> None:
    names = [model["name"] for model in found]
    check(names == [layout.name for layout in expected], "model search: wrong names")
    for model, layout in zip(found, expected, strict=True):
        aliases = {a["alias"]: int(a["version"]) for a in model.get("aliases", [])}
        check(aliases == layout.aliases(), f"{layout.name}: wrong aliases {aliases}")
        latest = {
            v["current_stage"]: int(v["version"]) for v in model["latest_versions"]
        }
        check(latest == layout.latest(), f"{layout.name}: wrong latest {latest}")
        check(len(model.get("tags", [])) == 3, f"{layout.name}: tags missing")


def _check_versions(found: list[dict[str, Any]], layouts: list[Layout]) -> None:
    expected = {
        (layout.name, version)
        for layout in layouts
        for version in range(1, VERSIONS + 1)
        if layout.quality(version) == "gold"
    }
    keys = [(v["name"], int(v["version"])) for v in found]
    check(len(keys) == len(set(keys)), "version search: duplicates across pages")
    check(set(keys) == expected, f"version search: {len(keys)} of {len(expected)}")
    check(all(len(v.get("tags", [])) == 2 for v in found), "version tags missing")


def _by_name(client: HttpClient, layout: Layout) -> dict[str, Any]:
    query = {"filter": f"name = '{layout.name}'"}
    return client.get(f"{VERSIONS_PATH}/search", query)


def _check_by_name(answer: dict[str, Any], layout: Layout) -> None:
    found = answer.get("model_versions", [])
    stages = {int(v["version"]): v["current_stage"] for v in found}
    expected = {v: layout.stages().get(v, "None") for v in range(1, VERSIONS + 1)}
    check(stages == expected, f"{layout.name}: versions and stages {stages}")
    check(len(found) == VERSIONS, f"{layout.name}: {len(found)} versions")


def _alias(client: HttpClient, layout: Layout) -> dict[str, Any]:
    return client.get(f"{MODELS}/alias", {"name": layout.name, "alias": "champion"})


def _check_alias(answer: dict[str, Any], layout: Layout) -> None:
    version = answer["model_version"]
    check(version["name"] == layout.name, f"{layout.name}: another model answered")
    check(version["version"] == str(VERSIONS), f"{layout.name}: champion moved")
    check("champion" in version.get("aliases", []), f"{layout.name}: alias missing")


def _latest(client: HttpClient, layout: Layout) -> dict[str, Any]:
    return client.get(f"{MODELS}/get-latest-versions", {"name": layout.name})


def _check_latest(answer: dict[str, Any], layout: Layout) -> None:
    found = answer["model_versions"]
    latest = {v["current_stage"]: int(v["version"]) for v in found}
    check(latest == layout.latest(), f"{layout.name}: latest {latest}")


def _asked(models: int, lookups: int) -> list[Layout]:
    """``lookups`` models spread over all of them, in a fixed shuffled order."""
    step = 7919  # prime, so the walk visits every model before repeating
    return [Layout((k * step) % models) for k in range(lookups)]


Request = Callable[[HttpClient, Layout], dict[str, Any]]
Checker = Callable[[dict[str, Any], Layout], None]
Action = Callable[[HttpClient], Any]


@dataclass
class Case:
    """One timed case of one side: what a measurement does over a client,
    and the check of its last answer."""

    timing: Timing
    action: Action
    check: Callable[[Any], None]


def _repeated(times: int, search: Action) -> Action:
    """``search`` run ``times`` in a row, answering its last answer: a
    measurement long enough that a scheduling hiccup barely moves it."""

    def run(client: HttpClient) -> Any:
        for _ in range(times - 1):
            search(client)
        return search(client)

    return run


def _per_model(
    timing: Timing, asked: list[Layout], calls: tuple[Request, Checker]
) -> Case:
    request, checker = calls

    def run(client: HttpClient) -> list[dict[str, Any]]:
        return [request(client, layout) for layout in asked]

    def check_all(answers: list[dict[str, Any]]) -> None:
        for answer, layout in zip(answers, asked, strict=True):
            checker(answer, layout)

    return Case(timing, run, check_all)


ALL_MODELS = "registered-models/search, all in pages"
MODELS_LIKE = f"registered-models/search, {NAME_LIKE}"
BY_NAME = "model-versions/search, name = '…'"
BY_TAG = f"model-versions/search, {TAG_FILTER}, in pages"
ALIAS = "registered-models/alias (GET)"
LATEST = "registered-models/get-latest-versions"
CASES = (ALL_MODELS, MODELS_LIKE, BY_NAME, BY_TAG, ALIAS, LATEST)


def _cases(sizes: Sizes) -> list[Case]:
    """Every case of one side, in the order of CASES."""
    models, lookups, searches = sizes["models"], sizes["lookups"], sizes["searches"]
    layouts = [Layout(i) for i in range(models)]
    liked = [layout for layout in layouts if layout.name.startswith("model-01")]
    asked = _asked(models, lookups)
    query = {"filter": TAG_FILTER, "max_results": PAGE}
    path = f"{VERSIONS_PATH}/search"
    return [
        Case(
            Timing(ALL_MODELS, "searches", searches),
            _repeated(searches, lambda client: _search_models(client, "")),
            lambda found: _check_models(found, layouts),
        ),
        Case(
            Timing(MODELS_LIKE, "searches", searches),
            _repeated(searches, lambda client: _search_models(client, NAME_LIKE)),
            lambda found: _check_models(found, liked),
        ),
        _per_model(
            Timing(BY_NAME, "searches", lookups), asked, (_by_name, _check_by_name)
        ),
        Case(
            Timing(BY_TAG, "searches", searches),
            _repeated(
                searches,
                lambda client: _all_pages(client, path, query, "model_versions"),
            ),
            lambda found: _check_versions(found, layouts),
        ),
        _per_model(Timing(ALIAS, "lookups", lookups), asked, (_alias, _check_alias)),
        _per_model(Timing(LATEST, "lookups", lookups), asked, (_latest, _check_latest)),
    ]


def _run(server: Server, case: Case, timed: bool) -> Any:
    """One measurement of ``case`` over a new connection, opened before the
    clock starts: a connection left idle while the other side was timed may
    have been closed by its server."""
    client = server.connected_client()
    try:
        started = time.perf_counter()
        answer = case.action(client)
        if timed:
            case.timing.seconds.append(time.perf_counter() - started)
        return answer
    finally:
        client.close()


def measure_together(
    servers: dict[str, Server], sizes: dict[str, Sizes], repeats: dict[str, int]
) -> dict[str, list[Timing]]:
    """Seed every server, then time each case on every side in turns.

    After one untimed warm-up per side, each case's measurements run on the
    sides in turns (see :func:`~server_common.in_turns`).
    """
    for side, server in servers.items():
        seconds = seed_over_http(server, sizes[side]["models"])
        print(f"  seeded {side} in {seconds:.1f} s", file=sys.stderr)
    cases = {side: _cases(sizes[side]) for side in servers}
    order = list(servers)
    for index in range(len(CASES)):
        last = {side: _run(servers[side], cases[side][index], False) for side in order}
        for side in in_turns({side: repeats[side] for side in order}):
            last[side] = _run(servers[side], cases[side][index], True)
        for side in order:
            cases[side][index].check(last[side])
    return {side: [case.timing for case in cases[side]] for side in order}


def measure(
    server: Server, sizes: Sizes, facts: dict[str, Any], repeat: int
) -> list[Timing]:
    """One side alone: the same cases as :func:`measure_together`."""
    side = server.side
    return measure_together({side: server}, {side: sizes}, {side: repeat})[side]


BENCHMARK = ServerBenchmark(
    name="server_registry",
    description=(
        f"registry reads over models of {VERSIONS} versions each: searches, "
        "alias look-ups, latest versions"
    ),
    measure=measure,
    sizes={"models": 1_000, "lookups": 200, "searches": 10},
    quick_sizes={"models": 120, "lookups": 40, "searches": 3},
    targets={case: 5 for case in CASES},
    measure_together=measure_together,
    default_repeat=(7, 5),
)

if __name__ == "__main__":
    main(BENCHMARK, __file__)
