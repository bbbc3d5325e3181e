"""/assistants: versioned configurations of the served graphs."""

from __future__ import annotations

from fastapi import Request

from graphdock.server.api import models
from graphdock.server.api.access import requires
from graphdock.server.api.caller import Caller, CallerDep
from graphdock.server.api.deps import services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content, paginated
from graphdock.server.api.routing import api_router
from graphdock.server.services.graph_schemas import drawable_graph, graph_schemas, subgraph_schemas
from graphdock.server.services.graphs import system_assistant_id

router = api_router(tags=["Assistants"])


WRITABLE = ("metadata", "config", "context", "name", "graph_id", "description")


@router.post("/assistants", summary="Create Assistant")
@requires("assistants.create")
async def create_assistant(body: models.AssistantCreate, request: Request, caller: CallerDep):
    fields = body.fields()
    value = {
        **_pick(
            fields,
            "assistant_id",
            "graph_id",
            "config",
            "context",
            "if_exists",
            "name",
            "description",
        ),
        "metadata": fields.get("metadata") or {},
    }
    await caller.authorize("assistants.create", value, target=fields, writable=WRITABLE)
    if fields.get("assistant_id") is not None:
        fields["assistant_id"] = uuid_id(fields["assistant_id"], "assistant")
    return json_response(await services(request).assistants.create(fields, caller.ctx))


def _pick(fields: dict, *keys: str) -> dict:
    return {k: fields[k] for k in keys if k in fields}


async def authorize_search(caller: Caller, fields: dict) -> None:
    """Run the assistants.search handler on a search's fields (it may narrow them)."""
    value = {
        "graph_id": fields.get("graph_id"),
        "metadata": fields.get("metadata") or {},
        "limit": fields.get("limit", 10),
        "offset": fields.get("offset", 0),
    }
    await caller.authorize(
        "assistants.search", value, target=fields, writable=("metadata", "graph_id")
    )


async def _read(caller: Caller, assistant_id: str) -> None:
    await caller.authorize("assistants.read", {"assistant_id": assistant_id})


@router.post("/assistants/search", summary="Search Assistants")
@requires("assistants.search")
async def search_assistants(body: models.AssistantSearch, request: Request, caller: CallerDep):
    fields = body.fields()
    await authorize_search(caller, fields)
    items, has_next = await services(request).assistants.search(fields, caller.ctx)
    return paginated(items, body.limit, body.offset, has_next, body.select)


@router.post("/assistants/count", summary="Count Assistants")
@requires("assistants.search")
async def count_assistants(body: models.AssistantCount, request: Request, caller: CallerDep):
    fields = body.fields()
    await authorize_search(caller, fields)
    return json_response(await services(request).assistants.count(fields, caller.ctx))


@router.get("/assistants/{assistant_id}", summary="Get Assistant")
@requires("assistants.read")
async def get_assistant(assistant_id: str, request: Request, caller: CallerDep):
    await _read(caller, assistant_id)
    assistant_id = uuid_id(assistant_id, "assistant")
    svc = services(request).assistants
    try:
        return json_response(await svc.get(assistant_id, caller.ctx))
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            raise ApiError(404, "Not Found") from None
        raise


@router.patch("/assistants/{assistant_id}", summary="Patch Assistant")
@requires("assistants.update")
async def patch_assistant(
    assistant_id: str, body: models.AssistantPatch, request: Request, caller: CallerDep
):
    fields = body.fields()
    value = {
        "assistant_id": assistant_id,
        **_pick(fields, "graph_id", "config", "context", "name", "description"),
        "metadata": fields.get("metadata") or {},
    }
    await caller.authorize("assistants.update", value, target=fields, writable=WRITABLE)
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(await services(request).assistants.patch(assistant_id, fields, caller.ctx))


@router.delete("/assistants/{assistant_id}", summary="Delete Assistant", status_code=204)
@requires("assistants.delete", "threads.delete")
async def delete_assistant(
    assistant_id: str, request: Request, caller: CallerDep, delete_threads: str = "false"
):
    """`delete_threads` also deletes the threads that ran on it; as in the reference, only
    `true` turns it on (any other value, `1` included, leaves the threads alone). Those
    threads must be the caller's to delete."""
    await caller.authorize("assistants.delete", {"assistant_id": assistant_id})
    cascade = delete_threads.lower() == "true"
    if cascade:
        await caller.authorize("threads.delete", {})
    assistant_id = uuid_id(assistant_id, "assistant")
    svc = services(request)
    ctx = caller.ctx
    for thread_id in await svc.assistants.delete(assistant_id, ctx, delete_threads=cascade):
        try:
            await svc.threads.delete(thread_id, ctx)
        except Exception:  # already gone, or not the caller's
            pass
    return no_content()


async def _assistant_graph(
    request: Request, caller: Caller, assistant_id: str, *, allow_graph_name: bool = False
):
    await _read(caller, assistant_id)
    svc = services(request)
    if allow_graph_name and assistant_id in svc.graphs:
        assistant_id = system_assistant_id(assistant_id)
    assistant_id = uuid_id(assistant_id, "assistant")
    try:
        assistant = await svc.assistants.get(assistant_id, caller.ctx)
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            raise ApiError(404, "Not Found") from None
        raise
    return assistant, await svc.assistants.described_graph(assistant, caller.ctx.user)


def xray_level(xray: str) -> int | bool:
    """The reference's xray values: true/True, false/False/empty, or a positive depth."""
    if xray in ("true", "True"):
        return True
    if xray in ("false", "False", ""):
        return False
    if xray.isdigit() and int(xray) > 0:
        return int(xray)
    raise ApiError(422, "Invalid xray value")


@router.get("/assistants/{assistant_id}/graph", summary="Get Assistant Graph")
@requires("assistants.read")
async def get_assistant_graph(
    assistant_id: str, request: Request, caller: CallerDep, xray: str = "false"
):
    level = xray_level(xray)
    _, graph = await _assistant_graph(request, caller, assistant_id, allow_graph_name=True)
    return json_response(drawable_graph(graph, level))


@router.get("/assistants/{assistant_id}/schemas", summary="Get Assistant Schemas")
@requires("assistants.read")
async def get_assistant_schemas(assistant_id: str, request: Request, caller: CallerDep):
    assistant, graph = await _assistant_graph(request, caller, assistant_id)
    return json_response(graph_schemas(graph, assistant["graph_id"]))


@router.get("/assistants/{assistant_id}/subgraphs", summary="Get Assistant Subgraphs")
@requires("assistants.read")
async def get_assistant_subgraphs(
    assistant_id: str, request: Request, caller: CallerDep, recurse: bool = False
):
    _, graph = await _assistant_graph(request, caller, assistant_id)
    return json_response(subgraph_schemas(graph, None, recurse))


@router.get(
    "/assistants/{assistant_id}/subgraphs/{namespace}",
    summary="Get Assistant Subgraphs by Namespace",
)
@requires("assistants.read")
async def get_assistant_subgraphs_ns(
    assistant_id: str, namespace: str, request: Request, caller: CallerDep, recurse: bool = False
):
    _, graph = await _assistant_graph(request, caller, assistant_id)
    return json_response(subgraph_schemas(graph, namespace, recurse))


@router.post("/assistants/{assistant_id}/versions", summary="Get Assistant Versions")
@requires("assistants.read")
async def get_assistant_versions(
    assistant_id: str, body: models.AssistantVersionsSearch, request: Request, caller: CallerDep
):
    await _read(caller, assistant_id)
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(
        await services(request).assistants.versions(assistant_id, body.fields(), caller.ctx)
    )


@router.post("/assistants/{assistant_id}/latest", summary="Set Latest Assistant Version")
@requires("assistants.update")
async def set_latest_version(
    assistant_id: str, body: models.AssistantSetLatest, request: Request, caller: CallerDep
):
    value = {"assistant_id": assistant_id, "version": body.version}
    await caller.authorize("assistants.update", value)
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(
        await services(request).assistants.set_latest(assistant_id, body.version, caller.ctx)
    )
