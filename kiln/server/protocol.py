"""uvicorn's httptools protocol, sending each response in one write.

uvicorn writes a response's status line and headers as soon as the app
starts the response, then the body as a second write. Each write to a
socket is a system call, and on loopback each one also wakes the client, so
for the small JSON answers of the tracking API the two writes cost more than
the rest of the request. :class:`CoalescingHttpToolsProtocol` hands uvicorn a
transport that collects the writes made in one turn of the event loop and
sends them as one; ``kiln server`` runs uvicorn with it.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingHttpToolsProtocol", "CoalescingTransport"]


class CoalescingTransport:
    """Wrap a transport: writes wait for the end of the loop's turn, together.

    Everything but ``write`` and ``close`` goes to the wrapped transport.
    """

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        """Send what was written so far (as one write)."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol over a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvicorn only hands stream transports to an HTTP protocol.
        wrapped = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(cast(asyncio.Transport, wrapped))
