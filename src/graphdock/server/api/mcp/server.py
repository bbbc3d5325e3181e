"""The MCP server: the official SDK's low-level `Server` with a tools/list and a tools/call
handler, served by its Streamable HTTP session managers.

Both managers are stateless (every request stands alone, so any API process can answer
any request): one answers in JSON, for clients that accept only JSON; the other answers in
SSE, for clients that accept both, which lets a long call send progress notifications
before its result. Each request finds its caller (admitted by `AdmittedApp`) and runs the
same auth handlers the classic API runs: listing tools is an assistant search, a call is a
run.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import jsonschema_rs
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import McpError
from starlette.datastructures import Headers
from starlette.requests import Request

from graphdock._version import __version__
from graphdock.server.api import agent_runs
from graphdock.server.api.caller import Caller, current_caller
from graphdock.server.api.deps import services
from graphdock.server.api.errors import ApiError
from graphdock.server.api.mcp.tools import RESUME_ARG, THREAD_ARG, AssistantTool, failed, toolbox
from graphdock.server.api.mcp.tools import result as tool_result
from graphdock.server.api.routes.assistants import authorize_search
from graphdock.server.services.errors import ServiceError
from graphdock.server.services.ids import canonical_uuid

log = logging.getLogger("graphdock.mcp")


PAGE = 100
INSTRUCTIONS = (
    "Each tool runs one LangGraph assistant of this server and returns its output. A run "
    "that stops to ask for input returns its thread_id; call the same tool with that "
    "thread_id and resume=<answer> to continue it."
)
_MISSING = object()


def _request() -> tuple[Request, Caller, Any]:
    ctx = server.request_context
    request = ctx.request
    if not isinstance(request, Request):  # the streamable HTTP transport passes its request
        raise RuntimeError("an MCP request that came without its HTTP request")
    return request, current_caller(request), ctx


async def _tools(request: Request, caller: Caller) -> list[AssistantTool]:
    """The caller's tools: every assistant their search handler lets them see."""
    fields: dict[str, Any] = {"limit": PAGE, "offset": 0}
    await authorize_search(caller, fields)
    svc = services(request).assistants
    found: list[tuple[dict, dict | None]] = []
    while True:
        page, more = await svc.search(
            {**fields, "sort_by": "created_at", "sort_order": "asc"}, caller.ctx
        )
        for assistant in page:
            try:
                schema = await svc.input_schema(assistant)
            except ServiceError as exc:  # its graph is gone, or cannot be built
                log.warning("assistant %s has no input schema: %s", assistant["assistant_id"], exc)
                schema = None
            found.append((assistant, schema))
        if not more:
            return toolbox(found)
        fields["offset"] += PAGE


async def _visible_tools(request: Request, caller: Caller) -> list[AssistantTool]:
    """The caller's tools, or the protocol's error when their search handler refuses."""
    try:
        return await _tools(request, caller)
    except (ServiceError, ApiError) as exc:
        raise McpError(types.ErrorData(code=types.INVALID_REQUEST, message=exc.detail)) from None


async def list_tools(req: types.ListToolsRequest) -> types.ServerResult:
    request, caller, _ = _request()
    tools = await _visible_tools(request, caller)
    return types.ServerResult(types.ListToolsResult(tools=[t.describe() for t in tools]))


async def call_tool(req: types.CallToolRequest) -> types.ServerResult:
    request, caller, ctx = _request()
    name = req.params.name
    tools = {t.name: t for t in await _visible_tools(request, caller)}
    tool = tools.get(name)
    if tool is None:
        known = ", ".join(sorted(tools)) or "none"
        raise McpError(
            types.ErrorData(
                code=types.INVALID_PARAMS, message=f"Unknown tool: {name!r}. Tools: {known}"
            )
        )
    arguments = dict(req.params.arguments or {})
    token = ctx.meta.progressToken if ctx.meta is not None else None
    version = request.headers.get("mcp-protocol-version") or types.DEFAULT_NEGOTIATED_VERSION
    try:
        outcome = await _run(request, caller, tool, arguments, token, ctx)
    except _Refused as exc:
        return types.ServerResult(failed(str(exc)))
    except (ServiceError, ApiError) as exc:
        return types.ServerResult(failed(exc.detail))
    return types.ServerResult(tool_result(tool, outcome, version))


class _Refused(Exception):
    """Arguments the tool cannot run with; the message says why."""


def _split(tool: AssistantTool, arguments: dict) -> tuple[str | None, Any, dict]:
    """(thread_id, resume, graph input) from a call's arguments."""
    thread_id = arguments.pop(THREAD_ARG, None) if THREAD_ARG in tool.reserved else None
    resume = arguments.pop(RESUME_ARG, _MISSING) if RESUME_ARG in tool.reserved else _MISSING
    if thread_id is not None:
        canonical = canonical_uuid(thread_id) if isinstance(thread_id, str) else None
        if canonical is None:
            raise _Refused(f"{THREAD_ARG} must be a thread's UUID, got {thread_id!r}")
        thread_id = canonical
    if resume is not _MISSING:
        if thread_id is None:
            raise _Refused(f"{RESUME_ARG} answers a thread's interrupt: give {THREAD_ARG} too")
        if arguments:
            raise _Refused(
                f"Give either {RESUME_ARG} (to answer the interrupt) or the graph's input, "
                f"not both: got {', '.join(sorted(arguments))}"
            )
    elif tool.graph_schema:
        try:
            jsonschema_rs.validate(tool.input_schema(), arguments)
        except jsonschema_rs.ValidationError as exc:
            raise _Refused(f"Input validation error: {exc.message}") from None
    return thread_id, resume, arguments


async def _run(
    request: Request, caller: Caller, tool: AssistantTool, arguments: dict, token: Any, ctx: Any
) -> agent_runs.Outcome:
    thread_id, resume, graph_input = _split(tool, arguments)
    run = await agent_runs.start_run(
        request,
        caller,
        tool.assistant_id,
        thread_id=thread_id,
        input=graph_input if resume is _MISSING else None,
        command=None if resume is _MISSING else {"resume": resume},
        stream_mode=["updates"] if token is not None else None,
        keep_thread=thread_id is None,  # so an interrupt can be answered on it
    )
    try:
        if token is not None:
            await _report_progress(request, run, token, ctx)
        outcome = await agent_runs.outcome(request, run)
    except anyio.get_cancelled_exc_class():
        if thread_id is None:  # the client left: the run goes on, its thread goes after it
            request.app.state.mcp.spawn(agent_runs.forget_thread_when_done, request, run)
        raise
    if thread_id is None and outcome.status != "interrupted":
        await agent_runs.forget_thread(request, outcome)
    return outcome


async def _report_progress(request: Request, run: dict, token: Any, ctx: Any) -> None:
    """A progress notification each time a node of the run finishes."""
    done = 0
    async for name, data in agent_runs.events(request, run):
        if name != "updates" or not isinstance(data, dict):
            continue
        for node in data:
            done += 1
            await ctx.session.send_progress_notification(
                token, done, message=f"{node} finished", related_request_id=ctx.request_id
            )


server: Server = Server("graphdock", version=__version__, instructions=INSTRUCTIONS)
# Registered as plain request handlers rather than through the `call_tool` decorator: the
# decorator caches one tool list for every caller and turns any error, an unknown tool
# included, into a tool result.
server.request_handlers[types.ListToolsRequest] = list_tools
server.request_handlers[types.CallToolRequest] = call_tool


class Managers:
    """The SDK's two stateless session managers: SSE for a client that accepts it (and so
    progress notifications), JSON for the others."""

    def __init__(self) -> None:
        self.streaming = StreamableHTTPSessionManager(server, stateless=True)
        self.plain = StreamableHTTPSessionManager(server, stateless=True, json_response=True)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        accept = Headers(scope=scope).get("accept", "")
        sse = "text/event-stream" in accept and "application/json" in accept
        await (self.streaming if sse else self.plain).handle_request(scope, receive, send)

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Run both until cancelled (the app stops)."""
        async with self.streaming.run(), self.plain.run():
            task_status.started()
            await anyio.sleep_forever()
