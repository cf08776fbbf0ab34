"""The REST tracking store: HTTP to a Kiln or MLflow tracking server."""

from kiln.store.rest.config import RestConfig
from kiln.store.rest.http import RETRY_STATUSES, RestClient
from kiln.store.rest.store import METRIC_HISTORY_PAGE_SIZE, RestStore

__all__ = [
    "METRIC_HISTORY_PAGE_SIZE",
    "RETRY_STATUSES",
    "RestClient",
    "RestConfig",
    "RestStore",
]
