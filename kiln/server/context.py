"""What every request handler may use: the store, the artifact settings and
who sent the request."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kiln.server.destination import Destination
from kiln.server.identity import basic_user
from kiln.server.locations import ArtifactLocations
from kiln.server.responses import ArtifactServingDisabled
from kiln.store.base import TrackingStore

__all__ = ["ServerContext"]


@dataclass(frozen=True, slots=True)
class ServerContext:
    """The server's collaborators, passed to every handler explicitly.

    ``destination`` is None when the artifact proxy is off
    (``--no-serve-artifacts``). ``user_id`` is who sent the request being
    handled (see :mod:`kiln.server.identity`), None when unknown.
    """

    store: TrackingStore
    locations: ArtifactLocations
    destination: Destination | None
    user_id: str | None = None

    def for_request(self, authorization: str | None) -> ServerContext:
        """This context for a request with that ``Authorization`` header."""
        user = basic_user(authorization)
        return self if user is None else replace(self, user_id=user)

    def require_destination(self) -> Destination:
        """The proxy storage; 503 when the server does not serve artifacts."""
        if self.destination is None:
            raise ArtifactServingDisabled(
                "This server does not serve artifacts; start it with "
                "--serve-artifacts to use the artifact proxy."
            )
        return self.destination
