"""What the ``kiln`` group hands to its subcommands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln import KilnClient


class CliState:
    """The global options, and the client built from them on first use.

    The client is created lazily so that ``--help`` and commands that do not
    track anything (``kiln db upgrade``) never open a store.
    """

    def __init__(self, tracking_uri: str | None) -> None:
        self.tracking_uri = tracking_uri
        self._client: KilnClient | None = None

    def client(self) -> KilnClient:
        """Return the client for ``--tracking-uri`` (or the configured default)."""
        if self._client is None:
            from kiln import KilnClient

            self._client = KilnClient(tracking_uri=self.tracking_uri)
        return self._client
