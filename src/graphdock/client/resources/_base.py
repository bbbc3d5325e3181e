"""What every resource client shares: a transport and three ways to use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._flows import exchange, paginate, sse_stream
from .._wire import Request


class Resource:
    """A group of endpoints. Methods describe requests; the transport decides sync vs async.

    With the async client a method returns an awaitable (or an async iterator for streams);
    with the sync client the same method returns the value (or a plain iterator).
    """

    def __init__(self, transport: Any):
        self._t = transport

    def _call(self, request: Request) -> Any:
        return self._t.run(exchange(request, self._t.settings))

    def _stream(self, request: Request, *, version: str = "v1") -> Any:
        return self._t.iterate(sse_stream(request, self._t.settings, version=version))

    def _pages(
        self,
        page_request: Callable[[int, int], Request],
        *,
        offset: int = 0,
        page_size: int = 100,
        items: Callable[[Any], list] = lambda body: body,
    ) -> Any:
        flow = paginate(
            page_request, self._t.settings, offset=offset, page_size=page_size, items=items
        )
        return self._t.iterate(flow)
