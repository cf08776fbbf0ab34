"""Find the route of a fixed path with one dictionary lookup.

Starlette's router tries each route's regular expression in turn; with
every endpoint mounted under two prefixes that is dozens of matches per
request. Nearly all of Kiln's paths are fixed strings, so this middleware
answers them from a ``{path: {method: endpoint}}`` table and hands
everything else (paths with parameters, unknown paths, wrong methods) to the
router, which still holds every route and produces the 404 and 405 answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FixedPathDispatch"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _fixed_routes(routes: Iterable[BaseRoute]) -> dict[str, dict[str, Endpoint]]:
    table: dict[str, dict[str, Endpoint]] = {}
    for route in routes:
        if isinstance(route, Route) and not route.param_convertors and route.methods:
            by_method = table.setdefault(route.path, {})
            for method in route.methods:
                by_method[method] = route.endpoint
    return table


class FixedPathDispatch:
    """Serve requests for fixed route paths directly; pass the rest on."""

    def __init__(self, app: ASGIApp, *, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.table = _fixed_routes(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            endpoint = self.table.get(path, {}).get(scope["method"])
            if endpoint is not None:
                response = await endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
