"""Assistants as tools over the Model Context Protocol, at `/mcp` (Streamable HTTP)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from graphdock.server.api.access import Access
from graphdock.server.api.routing import AdmittedApp

PATH = "/mcp"


def install(app: FastAPI) -> None:
    """Mount the MCP endpoint behind the API's front door (API keys, custom auth)."""
    from graphdock.server.api.mcp.server import PERMITS, McpEndpoint

    endpoint = McpEndpoint()
    app.state.mcp = endpoint
    app.router.add_route(
        PATH,
        AdmittedApp(endpoint, Access(permits=frozenset(PERMITS))),
        methods=["POST"],
        include_in_schema=False,
    )


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: the SDK's session managers run (a no-op without MCP)."""
    endpoint = getattr(app.state, "mcp", None)
    if endpoint is None:
        yield
        return
    async with endpoint.running():
        yield
