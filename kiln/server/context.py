"""What every request handler may use: the store and the artifact settings."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.server.destination import Destination
from kiln.server.locations import ArtifactLocations
from kiln.server.responses import ArtifactServingDisabled
from kiln.store.base import TrackingStore

__all__ = ["ServerContext"]


@dataclass(frozen=True, slots=True)
class ServerContext:
    """The server's collaborators, passed to every handler explicitly.

    ``destination`` is None when the artifact proxy is off
    (``--no-serve-artifacts``).
    """

    store: TrackingStore
    locations: ArtifactLocations
    destination: Destination | None

    def require_destination(self) -> Destination:
        """The proxy storage; 503 when the server does not serve artifacts."""
        if self.destination is None:
            raise ArtifactServingDisabled(
                "This server does not serve artifacts; start it with "
                "--serve-artifacts to use the artifact proxy."
            )
        return self.destination
