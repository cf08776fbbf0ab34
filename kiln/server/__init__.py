"""Kiln's tracking server: MLflow's REST API and artifact proxy over a store."""

from kiln.server.app import create_app, create_app_from_env
from kiln.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app", "create_app_from_env"]
