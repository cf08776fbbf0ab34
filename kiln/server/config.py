"""The tracking server's settings, and their round trip through the environment.

``kiln server`` parses its options into a :class:`ServerConfig`. With several
uvicorn workers each worker process builds its own app, so the config travels
to them as ``KILN_*`` environment variables (:meth:`ServerConfig.to_env`) and
is read back by :func:`kiln.server.app.create_app_from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiln.errors import InvalidParameterValue

DEFAULT_BACKEND_STORE_URI = "sqlite:///kiln-data/kiln.db"
DEFAULT_ARTIFACTS_DESTINATION = "kiln-data/artifacts"
# Where the artifact proxy's experiments live, as clients see it.
PROXY_ARTIFACT_ROOT = "mlflow-artifacts:/"

# Each setting's variable; MLflow's names are read as fallbacks where users
# already know them.
_ENV = {
    "backend_store_uri": ("KILN_BACKEND_STORE_URI",),
    "default_artifact_root": ("KILN_DEFAULT_ARTIFACT_ROOT",),
    "artifacts_destination": ("KILN_ARTIFACTS_DESTINATION",),
    "serve_artifacts": ("KILN_SERVE_ARTIFACTS",),
    "allowed_hosts": ("KILN_SERVER_ALLOWED_HOSTS", "MLFLOW_SERVER_ALLOWED_HOSTS"),
    "cors_allowed_origins": (
        "KILN_SERVER_CORS_ALLOWED_ORIGINS",
        "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
    ),
    "static_prefix": ("KILN_STATIC_PREFIX",),
}


def split_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Split a comma-separated option (or several of them) into clean items."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(
        part.strip() for item in items for part in item.split(",") if part.strip()
    )


def normalize_static_prefix(prefix: str | None) -> str:
    """Return ``prefix`` as ``/a/b`` (no trailing slash), or ``""`` for none."""
    if not prefix or prefix == "/":
        return ""
    if not prefix.startswith("/"):
        raise InvalidParameterValue(
            f"Invalid static prefix {prefix!r}; expected a path starting with '/'."
        )
    return prefix.rstrip("/")


def parse_bool(name: str, value: str) -> bool:
    """Read the setting ``name``'s ``value`` as a boolean (true/false, 1/0...)."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidParameterValue(
        f"Invalid value {value!r} for {name}; expected true or false."
    )


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything a server process needs to build its app."""

    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    default_artifact_root: str | None = None
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    serve_artifacts: bool = True
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()
    static_prefix: str = ""

    def resolved_default_artifact_root(self) -> str:
        """The root new experiments get their artifact location under.

        An explicit ``default_artifact_root`` wins. Otherwise the proxy's
        ``mlflow-artifacts:/`` when artifacts are served, else the absolute
        path of the artifacts destination (clients then write there directly).
        """
        if self.default_artifact_root:
            return self.default_artifact_root
        if self.serve_artifacts:
            return PROXY_ARTIFACT_ROOT
        if "://" in self.artifacts_destination:
            return self.artifacts_destination
        return str(Path(self.artifacts_destination).resolve())

    def to_env(self) -> dict[str, str]:
        """The environment variables that recreate this config in a worker."""
        values = {
            "backend_store_uri": self.backend_store_uri,
            "default_artifact_root": self.default_artifact_root or "",
            "artifacts_destination": self.artifacts_destination,
            "serve_artifacts": "true" if self.serve_artifacts else "false",
            "allowed_hosts": ",".join(self.allowed_hosts),
            "cors_allowed_origins": ",".join(self.cors_allowed_origins),
            "static_prefix": self.static_prefix,
        }
        return {_ENV[name][0]: value for name, value in values.items()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Read the config from ``KILN_*`` variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            for variable in _ENV[name]:
                if env.get(variable):
                    return env[variable]
            return None

        serve = read("serve_artifacts")
        serve_artifacts = serve is None or parse_bool(_ENV["serve_artifacts"][0], serve)
        return cls(
            backend_store_uri=read("backend_store_uri") or DEFAULT_BACKEND_STORE_URI,
            default_artifact_root=read("default_artifact_root"),
            artifacts_destination=(
                read("artifacts_destination") or DEFAULT_ARTIFACTS_DESTINATION
            ),
            serve_artifacts=serve_artifacts,
            allowed_hosts=split_list(read("allowed_hosts")),
            cors_allowed_origins=split_list(read("cors_allowed_origins")),
            static_prefix=normalize_static_prefix(read("static_prefix")),
        )
