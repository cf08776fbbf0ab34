"""The tracking server: MLflow's REST API over a Kiln tracking store.

:func:`create_app` builds the ASGI app around any
:class:`~kiln.store.base.TrackingStore`; :func:`create_app_from_env` is the
factory uvicorn workers call, reading the config ``kiln server`` left in
``KILN_*`` environment variables.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from kiln.errors import BadRequest, KilnError
from kiln.server.config import (
    DEFAULT_ARTIFACTS_DESTINATION,
    ServerConfig,
    normalize_static_prefix,
)
from kiln.server.context import ServerContext
from kiln.server.destination import open_destination
from kiln.server.dispatch import FixedPathDispatch
from kiln.server.endpoints import Endpoint, routes_for
from kiln.server.locations import ArtifactLocations
from kiln.server.responses import (
    EndpointNotFound,
    MethodNotAllowed,
    error_response,
    internal_error_response,
)
from kiln.server.routes import (
    artifacts,
    experiments,
    logged_models,
    metrics,
    misc,
    promotion_rules,
    proxy,
    registry,
    registry_history,
    runs,
)
from kiln.server.security import SecurityMiddleware
from kiln.store.base import TrackingStore

__all__ = ["create_app", "create_app_from_env"]

ENDPOINTS: list[Endpoint] = [
    *experiments.ENDPOINTS,
    *runs.ENDPOINTS,
    *logged_models.ENDPOINTS,
    *metrics.ENDPOINTS,
    *artifacts.ENDPOINTS,
    *misc.ENDPOINTS,
    *registry.ENDPOINTS,
    *registry_history.ENDPOINTS,
    *promotion_rules.ENDPOINTS,
]


def create_app(
    store: TrackingStore,
    *,
    artifacts_destination: str | None = None,
    serve_artifacts: bool = True,
    allowed_hosts: Iterable[str] = (),
    cors_allowed_origins: Iterable[str] = (),
    static_prefix: str = "",
    default_artifact_root: str | None = None,
    inline_quick_calls: bool = False,
) -> Starlette:
    """Build the ASGI app serving ``store`` over MLflow's REST API.

    ``artifacts_destination`` is the artifact proxy's folder (default
    ``kiln-data/artifacts``); ``default_artifact_root`` is the root the store
    gives new experiments (default ``mlflow-artifacts:/`` when serving
    artifacts, else the destination folder). ``allowed_hosts`` and
    ``cors_allowed_origins`` extend the loopback defaults; ``"*"`` allows any.
    ``inline_quick_calls`` runs quick endpoints' store calls on the event
    loop rather than in a worker thread; only worth it when the store answers
    them locally (SQLite), as a slow call would hold up every other request.
    A write that would wait for the database's write lock, held by another
    connection, moves to a worker thread instead.
    Raises :class:`~kiln.errors.NotImplementedFeature` for a destination
    scheme that is not supported yet.
    """
    destination_uri = artifacts_destination or DEFAULT_ARTIFACTS_DESTINATION
    if default_artifact_root is None:
        default_artifact_root = ServerConfig(
            artifacts_destination=destination_uri, serve_artifacts=serve_artifacts
        ).resolved_default_artifact_root()
    context = ServerContext(
        store=store,
        locations=ArtifactLocations(destination_uri, default_artifact_root),
        destination=open_destination(destination_uri) if serve_artifacts else None,
    )
    prefix = normalize_static_prefix(static_prefix)
    routes = _routes(context, prefix, inline_quick_calls)
    middleware = [
        Middleware(
            SecurityMiddleware,
            allowed_hosts=allowed_hosts,
            cors_allowed_origins=cors_allowed_origins,
            raw_body_prefixes=proxy.proxy_prefixes(prefix),
            any_host_paths=[f"{prefix}/health"],
        ),
        Middleware(FixedPathDispatch, routes=routes),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )


def _routes(context: ServerContext, prefix: str, inline_quick: bool) -> list[BaseRoute]:
    return [
        *misc.plain_routes(prefix),
        *routes_for(ENDPOINTS, context, prefix, inline_quick=inline_quick),
        *proxy.routes(context, prefix),
        *artifacts.plain_routes(context, prefix),
        *logged_models.plain_routes(context, prefix),
    ]


def _http_error(request: Request, exc: Exception) -> Response:
    """Answer the router's own 404 and 405 with MLflow's JSON error body."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    path = request.url.path
    error: KilnError
    if status == 404:
        error = EndpointNotFound(
            f"No endpoint at {path!r}; check the path and API version."
        )
    elif status == 405:
        error = MethodNotAllowed(
            f"The method {request.method!r} is not allowed for {path!r}."
        )
    else:
        error = BadRequest(f"The request to {path!r} was refused.")
        error.http_status = status
    return error_response(error, headers)


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this response is sent, and the
    # ASGI server logs it with its traceback: log nothing here, so it is
    # logged once.
    return internal_error_response()


def create_app_from_env() -> Starlette:
    """Build the app from ``KILN_*`` variables; uvicorn's factory for workers."""
    from kiln.store.sql.store import SqlStore

    config = ServerConfig.from_env()
    default_root = config.resolved_default_artifact_root()
    store = SqlStore(config.backend_store_uri, default_root)
    return create_app(
        store,
        artifacts_destination=config.artifacts_destination,
        serve_artifacts=config.serve_artifacts,
        allowed_hosts=config.allowed_hosts,
        cors_allowed_origins=config.cors_allowed_origins,
        static_prefix=config.static_prefix,
        default_artifact_root=default_root,
        inline_quick_calls=_is_local_database(config.backend_store_uri),
    )


def _is_local_database(uri: str) -> bool:
    """Whether the store's calls run in this process without network waits."""
    return uri.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"
