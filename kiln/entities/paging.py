"""A page of results with the token that fetches the next one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


class PagedList(list[T]):
    """A list holding one page of results.

    ``token`` is the opaque page token for the next page, or ``None`` on the
    last page.
    """

    def __init__(self, items: Iterable[T] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token
