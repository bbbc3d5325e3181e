"""Assistants as tools over the Model Context Protocol, at `/mcp` (Streamable HTTP)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import FastAPI

from graphdock.server.api.access import Access
from graphdock.server.api.routing import AdmittedApp

log = logging.getLogger("graphdock.mcp")
PATH = "/mcp"
# listing tools is an assistant search; a call is a run (api/agent_runs.py)
PERMITS = ("assistants.search", "threads.create_run", "assistants.read")


class McpEndpoint:
    """`POST /mcp`. The SDK (and its session managers) start with the first request, in
    the app's task group, so that a server nobody asks for MCP does not pay for it."""

    def __init__(self) -> None:
        self._group: anyio.abc.TaskGroup | None = None
        self._managers: Any = None
        self._starting = anyio.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        managers = self._managers or await self._start()
        await managers.handle(scope, receive, send)

    async def _start(self) -> Any:
        async with self._starting:
            if self._managers is None:
                if self._group is None:
                    raise RuntimeError("the MCP endpoint is used outside the app's lifespan")
                from graphdock.server.api.mcp.server import Managers

                managers = Managers()
                await self._group.start(managers.run)
                self._managers = managers
        return self._managers

    def spawn(self, fn: Any, *args: Any) -> None:
        """Run `fn(*args)` in the app's task group: work that outlives its request (its
        failure is logged, and leaves the group and the session managers running)."""

        async def guarded() -> None:
            try:
                await fn(*args)
            except Exception:
                log.exception("MCP background work %s failed", getattr(fn, "__name__", fn))

        if self._group is not None:
            self._group.start_soon(guarded)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                group.cancel_scope.cancel()
                self._group = None


def install(app: FastAPI) -> None:
    """Mount the MCP endpoint behind the API's front door (API keys, custom auth)."""
    endpoint = McpEndpoint()
    app.state.mcp = endpoint
    app.router.add_route(
        PATH,
        # An ASGI app: Starlette's Route serves any endpoint that is not a function or a
        # method as one, but add_route's annotation names only request handlers.
        AdmittedApp(endpoint, Access(permits=frozenset(PERMITS))),  # type: ignore[arg-type]
        methods=["POST"],
        include_in_schema=False,
    )


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: the endpoint's task group (a no-op without MCP)."""
    endpoint = getattr(app.state, "mcp", None)
    if endpoint is None:
        yield
        return
    async with endpoint.running():
        yield
