"""``kiln server``: run the tracking server (MLflow's REST API and artifact proxy)."""

from __future__ import annotations

import copy
import ipaddress
import os
from typing import Any

import click

from kiln.server.config import (
    DEFAULT_ARTIFACTS_DESTINATION,
    DEFAULT_BACKEND_STORE_URI,
    ServerConfig,
    normalize_static_prefix,
    split_list,
)

_WILDCARD_HOSTS = ("0.0.0.0", "::", "")
_APP_FACTORY = "kiln.server.app:create_app_from_env"
_HTTP_PROTOCOL = "kiln.server.protocol:CoalescingHttpToolsProtocol"


@click.command()
@click.option(
    "--backend-store-uri",
    default=DEFAULT_BACKEND_STORE_URI,
    show_default=True,
    envvar="KILN_BACKEND_STORE_URI",
    metavar="URI",
    help="Database for runs: sqlite:///path.db or postgresql://user@host/db.",
)
@click.option(
    "--default-artifact-root",
    metavar="URI",
    help=(
        "Root of new experiments' artifact locations. Defaults to "
        "mlflow-artifacts:/ (the proxy) when serving artifacts, else the "
        "artifacts destination."
    ),
)
@click.option(
    "--artifacts-destination",
    default=DEFAULT_ARTIFACTS_DESTINATION,
    show_default=True,
    metavar="URI",
    help=(
        "Where the artifact proxy stores files: a folder, or s3://bucket/prefix "
        "(endpoint from KILN_S3_ENDPOINT_URL or MLFLOW_S3_ENDPOINT_URL)."
    ),
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    help="Proxy artifact uploads and downloads through this server.",
)
@click.option(
    "-h", "--host", default="127.0.0.1", show_default=True, help="Address to bind."
)
@click.option(
    "-p", "--port", default=5000, show_default=True, type=int, help="Port to bind."
)
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes.",
)
@click.option(
    "--allowed-hosts",
    multiple=True,
    metavar="HOSTS",
    help=(
        "Comma-separated Host header values to accept besides localhost, such "
        "as 'kiln.example.com,10.0.0.5:5000' or '*.example.com'; '*' accepts any."
    ),
)
@click.option(
    "--cors-allowed-origins",
    multiple=True,
    metavar="ORIGINS",
    help=(
        "Comma-separated origins whose pages may call this server, such as "
        "'https://app.example.com'; '*' allows any."
    ),
)
@click.option(
    "--static-prefix",
    default="",
    metavar="PREFIX",
    help="Serve every route under this path prefix, such as /kiln.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log one line per request (costs a few percent of throughput).",
)
def server(
    backend_store_uri: str,
    default_artifact_root: str | None,
    artifacts_destination: str,
    serve_artifacts: bool,
    host: str,
    port: int,
    workers: int,
    allowed_hosts: tuple[str, ...],
    cors_allowed_origins: tuple[str, ...],
    static_prefix: str,
    access_log: bool,
) -> None:
    """Run the tracking server.

    Creates or upgrades the database schema first, then serves MLflow's
    REST API (so the mlflow client works against it) and the artifact proxy.
    It binds 127.0.0.1 by default; to serve other machines, bind 0.0.0.0
    and name the server's public host with --allowed-hosts.

    \b
    Example:
        kiln server --backend-store-uri postgresql://kiln@db/kiln \\
            --host 0.0.0.0 --allowed-hosts kiln.example.com -w 4
    """
    import uvicorn

    from kiln.server.destination import open_destination
    from kiln.store.sql.migrate import upgrade

    config = ServerConfig(
        backend_store_uri=backend_store_uri,
        default_artifact_root=default_artifact_root or None,
        artifacts_destination=artifacts_destination,
        serve_artifacts=serve_artifacts,
        allowed_hosts=_allowed_hosts(host, split_list(allowed_hosts)),
        cors_allowed_origins=split_list(cors_allowed_origins),
        static_prefix=normalize_static_prefix(static_prefix),
    )
    # Checked here, before any worker starts, so a bad URI or an unsupported
    # destination is reported once, as one line.
    if config.serve_artifacts:
        open_destination(config.artifacts_destination)
    upgrade(config.backend_store_uri)
    if host in _WILDCARD_HOSTS and not config.allowed_hosts:
        click.echo(
            "kiln: listening on every interface, but only requests addressed to "
            "localhost are accepted; add the server's name with --allowed-hosts.",
            err=True,
        )

    os.environ.update(config.to_env())
    uvicorn.run(
        _APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=_log_config(),
        access_log=access_log,
        http=_HTTP_PROTOCOL,
        server_header=False,
    )


def _allowed_hosts(bind: str, configured: tuple[str, ...]) -> tuple[str, ...]:
    """The configured hosts, plus the bound address when it is a specific one."""
    if bind in _WILDCARD_HOSTS:
        return configured
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        return (*configured, bind)
    if address.is_loopback:
        return configured
    return (*configured, f"[{bind}]" if address.version == 6 else bind)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging setup, with Kiln's loggers writing through it."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["kiln"] = {"handlers": ["default"], "level": "INFO"}
    return config
