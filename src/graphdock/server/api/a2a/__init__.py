"""Assistants as Agent2Agent agents: `POST /a2a/{assistant_id}` (JSON-RPC) and the agent
cards that describe them.

Every route is behind the API's front door, as in the reference: a card names an
assistant, its description and its input, which are the caller's to see. The JSON-RPC
framing (A2A 1.0 method names, and the 0.3 ones through the SDK's compatibility adapter)
is the `a2a-sdk` dispatcher's; `tasks.AssistantAgent` answers the methods.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response

from graphdock.server.api import agent_runs
from graphdock.server.api.access import requires
from graphdock.server.api.caller import CallerDep
from graphdock.server.api.deps import services
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response
from graphdock.server.api.routing import api_router
from graphdock.server.services.errors import ServiceError

router = api_router(tags=["A2A"])
RPC_PERMITS = (*agent_runs.RUN_PERMITS, "threads.read", "threads.search", "threads.update")


@functools.cache
def dispatcher() -> Any:
    """The SDK's JSON-RPC dispatcher over `AssistantAgent`, made (and the SDK imported)
    on the first A2A request rather than at every server start."""
    from a2a.server.routes.common import DefaultServerCallContextBuilder
    from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
    from a2a.utils.constants import PROTOCOL_VERSION_1_0

    from graphdock.server.api.a2a.tasks import AssistantAgent

    # A request naming a 1.0 method without an A2A-Version header is taken as 1.0 (the
    # SDK would take it as 0.3 and refuse it), as the reference answers both without one.
    v1_methods = frozenset(JsonRpcDispatcher.METHOD_TO_MODEL)

    class CallContext(DefaultServerCallContextBuilder):
        """The SDK's call context, carrying the request (and its caller) to the handler."""

        def build(self, request):
            context = super().build(request)
            context.state["request"] = request
            headers = context.state["headers"]
            method = getattr(request.state, "a2a_method", None)
            if "a2a-version" not in headers and method in v1_methods:
                headers["a2a-version"] = PROTOCOL_VERSION_1_0
            return context

    return JsonRpcDispatcher(AssistantAgent(), CallContext(), enable_v0_3_compat=True)


@router.post("/a2a/{assistant_id}", summary="A2A JSON-RPC", include_in_schema=True)
@requires(*RPC_PERMITS)
async def a2a_rpc(assistant_id: str, request: Request) -> Response:
    rpc = dispatcher()
    try:
        message = await request.json()  # the one parse, with the API's limits
    except ApiError as exc:
        from a2a.server.jsonrpc_models import JSONParseError
        from a2a.server.request_handlers.response_helpers import build_error_response

        return JSONResponse(build_error_response(None, JSONParseError(message=exc.detail)))
    request.state.a2a_method = message.get("method") if isinstance(message, dict) else None
    return await rpc.handle_requests(request)


def _card_error(status: int, message: str) -> Response:
    return json_response({"error": {"code": -32602, "message": message}}, status)


async def _card(request: Request, caller, assistant_id: str | None) -> Response:
    from graphdock.server.api.a2a.card import agent_card
    from graphdock.server.api.a2a.tasks import find_assistant

    if not assistant_id:
        return _card_error(400, "Missing required query parameter: assistant_id")
    try:
        assistant = await find_assistant(request, caller, assistant_id)
    except ServiceError as exc:
        return _card_error(exc.status, exc.detail)
    svc = services(request).assistants
    try:
        schema = await svc.input_schema(assistant)
    except ServiceError:
        schema = None
    return json_response(agent_card(assistant, schema, str(request.base_url)))


@router.get("/.well-known/agent-card.json", summary="A2A Agent Card")
@requires("assistants.read")
async def agent_card_by_query(
    request: Request, caller: CallerDep, assistant_id: str | None = None
) -> Response:
    return await _card(request, caller, assistant_id)


@router.get("/a2a/{assistant_id}/.well-known/agent-card.json", summary="A2A Agent Card")
@requires("assistants.read")
async def agent_card_by_path(assistant_id: str, request: Request, caller: CallerDep) -> Response:
    return await _card(request, caller, assistant_id)


@router.get(
    "/a2a/{assistant_id}/.well-known/agent.json", summary="A2A Agent Card", include_in_schema=False
)
@requires("assistants.read")
async def agent_card_legacy(assistant_id: str, request: Request, caller: CallerDep) -> Response:
    return await _card(request, caller, assistant_id)


@router.get("/a2a/{assistant_id}", summary="A2A Agent Card", include_in_schema=False)
@requires("assistants.read")
async def agent_card_at_endpoint(
    assistant_id: str, request: Request, caller: CallerDep
) -> Response:
    return await _card(request, caller, assistant_id)
