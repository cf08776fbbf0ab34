"""An in-process stand-in for a tracking server, built on httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from kiln.store.rest import RestConfig, RestStore

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def json_reply(status: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error_reply(status: int, code: str, message: str = "failed") -> httpx.Response:
    return json_reply(status, {"error_code": code, "message": message})


@dataclass
class FakeServer:
    """Answers each (method, path) with queued replies, the last one repeating.

    Every request is recorded; ``sleeps`` collects the waits between retries.
    """

    replies: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.replies[(method, "/api/2.0/mlflow" + path)] = list(replies)

    def on_url_path(self, method: str, path: str, *replies: Reply) -> None:
        self.replies[(method, path)] = list(replies)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, text="<html>Not Found</html>")
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return httpx.Response(
                reply.status_code, headers=reply.headers, content=reply.content
            )
        return reply(request)

    def store(self, config: RestConfig | None = None) -> RestStore:
        return RestStore(
            "http://tracking.test/",
            config or RestConfig(),
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleeps.append,
            uniform=lambda low, high: high / 4,
        )

    def body(self, index: int = -1) -> dict[str, Any]:
        content = self.requests[index].content
        decoded: dict[str, Any] = json.loads(content) if content else {}
        return decoded

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]
