"""How a tracking endpoint is declared and turned into routes.

A route module lists :class:`Endpoint` records: an MLflow path, its verbs and
a plain synchronous handler ``(context, message) -> JSON object``. This module
reads the request into a :class:`~kiln.wire.message.Message` (the query
string for GET, the JSON body otherwise), runs the handler in a worker thread
(stores are synchronous and may block on the database) and encodes the
answer. A ``quick`` endpoint touches a few rows by key; over a local database
its handler runs on the event loop instead, because handing a call of a few
hundred microseconds to a thread and back costs about as much as the call.
Such a call never waits on the event loop for the database's write lock:
when another connection holds it, the call goes to a worker thread (see
:mod:`kiln.store.lock_wait`).
Every endpoint is mounted under ``/api/<major>.0`` and mirrored under
``/ajax-api/<major>.0``, as MLflow's UI expects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.server.responses import (
    EMPTY_JSON,
    RequestTooLarge,
    error_response,
    json_response,
)
from kiln.store.lock_wait import WriteLockBusy, bounded_lock_wait
from kiln.wire.encoding import JSONObject, parse_body
from kiln.wire.message import Message

if TYPE_CHECKING:
    from kiln.server.context import ServerContext

__all__ = [
    "API_PREFIXES",
    "MAX_JSON_BODY",
    "Endpoint",
    "Handler",
    "api_paths",
    "read_body",
    "routes_for",
]

# MLflow caps a log-batch request at 1,000,000 bytes; a little slack covers
# the JSON around it.
MAX_JSON_BODY = 1024 * 1024
# How long a call on the event loop may wait for the database's write lock
# before it moves to a worker thread. Handing a call to a thread costs less
# than SQLite's shortest sleep between two tries for the lock (1 ms).
INLINE_LOCK_WAIT_MS = 0
API_PREFIXES = ("/api", "/ajax-api")

Handler = Callable[["ServerContext", Message], JSONObject | None]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One MLflow REST endpoint: ``path`` below ``/api/<major>.0``."""

    path: str
    methods: tuple[str, ...]
    handler: Handler
    major: int = 2
    max_body: int = MAX_JSON_BODY
    # A short call on a few rows, such as logging one metric or reading a run.
    quick: bool = False


def api_paths(path: str, major: int = 2, prefix: str = "") -> list[str]:
    """Every mounted spelling of ``path``: ``/api/…`` and ``/ajax-api/…``."""
    return [f"{prefix}{api}/{major}.0{path}" for api in API_PREFIXES]


async def read_body(request: Request, limit: int) -> bytes:
    """Read the whole body, refusing with 413 once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body has at least {size} bytes; this endpoint accepts at "
        f"most {limit}."
    )


async def _read_message(request: Request, limit: int) -> Message:
    # Parameters in the path (``/logged-models/{model_id}``) are fields of
    # the message too, and win over the same field in the query or body.
    in_path = request.path_params
    if request.method in ("GET", "HEAD"):
        pairs = request.query_params.multi_items()
        if in_path:
            pairs = [(k, v) for k, v in pairs if k not in in_path]
            pairs.extend(in_path.items())
        return Message.from_query(pairs)
    fields = parse_body(await read_body(request, limit))
    return Message({**fields, **in_path} if in_path else fields)


def _serve(
    endpoint: Endpoint, context: ServerContext, inline: bool
) -> Callable[[Request], Awaitable[Response]]:
    handler = endpoint.handler
    limit = endpoint.max_body

    async def serve(request: Request) -> Response:
        try:
            message = await _read_message(request, limit)
            asked = context.for_request(request.headers.get("authorization"))
            if inline:
                result = await _run_inline(handler, asked, message)
            else:
                result = await run_in_threadpool(handler, asked, message)
        except Exception as exc:
            return error_response(exc)
        return json_response(result if result else EMPTY_JSON)

    serve.__name__ = handler.__name__
    return serve


async def _run_inline(
    handler: Handler, context: ServerContext, message: Message
) -> JSONObject | None:
    """Run ``handler`` on the event loop unless it would wait for a lock.

    Its write may take the database's write lock only if the lock is free
    right away; when another connection holds it, nothing was written and
    the call runs again in a worker thread, which waits as long as needed
    while the event loop serves other requests.
    """
    try:
        with bounded_lock_wait(INLINE_LOCK_WAIT_MS):
            return handler(context, message)
    except WriteLockBusy:
        return await run_in_threadpool(handler, context, message)


def routes_for(
    endpoints: Iterable[Endpoint],
    context: ServerContext,
    prefix: str = "",
    *,
    inline_quick: bool = False,
) -> list[BaseRoute]:
    """Starlette routes for ``endpoints``, at both API prefixes.

    With ``inline_quick``, quick endpoints run their handler on the event loop.
    """
    routes: list[BaseRoute] = []
    for endpoint in endpoints:
        serve = _serve(endpoint, context, inline_quick and endpoint.quick)
        for path in api_paths(endpoint.path, endpoint.major, prefix):
            routes.append(Route(path, serve, methods=list(endpoint.methods)))
    return routes
