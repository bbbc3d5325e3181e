"""/assistants: versioned configurations of the served graphs."""

from __future__ import annotations

from fastapi import APIRouter, Request

from graphdock.server.api import models
from graphdock.server.api.deps import context, services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content, paginated
from graphdock.server.services.graph_schemas import drawable_graph, graph_schemas, subgraph_schemas
from graphdock.server.services.graphs import system_assistant_id

router = APIRouter(tags=["Assistants"])


@router.post("/assistants", summary="Create Assistant")
async def create_assistant(body: models.AssistantCreate, request: Request):
    fields = body.fields()
    if fields.get("assistant_id") is not None:
        fields["assistant_id"] = uuid_id(fields["assistant_id"], "assistant")
    return json_response(await services(request).assistants.create(fields, context(request)))


@router.post("/assistants/search", summary="Search Assistants")
async def search_assistants(body: models.AssistantSearch, request: Request):
    fields = body.fields()
    items, has_next = await services(request).assistants.search(fields, context(request))
    return paginated(items, body.limit, body.offset, has_next, body.select)


@router.post("/assistants/count", summary="Count Assistants")
async def count_assistants(body: models.AssistantCount, request: Request):
    return json_response(await services(request).assistants.count(body.fields(), context(request)))


@router.get("/assistants/{assistant_id}", summary="Get Assistant")
async def get_assistant(assistant_id: str, request: Request):
    assistant_id = uuid_id(assistant_id, "assistant")
    svc = services(request).assistants
    try:
        return json_response(await svc.get(assistant_id, context(request)))
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            raise ApiError(404, "Not Found") from None
        raise


@router.patch("/assistants/{assistant_id}", summary="Patch Assistant")
async def patch_assistant(assistant_id: str, body: models.AssistantPatch, request: Request):
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(
        await services(request).assistants.patch(assistant_id, body.fields(), context(request))
    )


@router.delete("/assistants/{assistant_id}", summary="Delete Assistant", status_code=204)
async def delete_assistant(assistant_id: str, request: Request, delete_threads: str = "false"):
    """`delete_threads` also deletes the threads that ran on it; as in the reference, only
    `true` turns it on (any other value, `1` included, leaves the threads alone)."""
    assistant_id = uuid_id(assistant_id, "assistant")
    svc = services(request)
    ctx = context(request)
    cascade = delete_threads.lower() == "true"
    for thread_id in await svc.assistants.delete(assistant_id, ctx, delete_threads=cascade):
        try:
            await svc.threads.delete(thread_id, ctx)
        except Exception:  # already gone, or not the caller's
            pass
    return no_content()


async def _assistant_graph(request: Request, assistant_id: str, *, allow_graph_name: bool = False):
    svc = services(request)
    if allow_graph_name and assistant_id in svc.graphs:
        assistant_id = system_assistant_id(assistant_id)
    assistant_id = uuid_id(assistant_id, "assistant")
    try:
        assistant = await svc.assistants.get(assistant_id, context(request))
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            raise ApiError(404, "Not Found") from None
        raise
    if assistant["graph_id"] not in svc.graphs:
        raise ApiError(404, f"Graph '{assistant['graph_id']}' is not served by this server")
    entry = svc.graphs.get(assistant["graph_id"])
    config = {
        "configurable": {**(assistant["config"].get("configurable") or {}), **assistant["context"]}
    }
    try:
        async with entry.open(config, checkpointer=None, store=None) as graph:
            return assistant, graph
    except Exception as exc:  # a factory that cannot build with this assistant's config
        raise ApiError(
            400, f"Graph '{entry.graph_id}' could not be built: {type(exc).__name__}: {exc}"
        ) from exc


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
async def get_assistant_graph(assistant_id: str, request: Request, xray: str = "false"):
    level = xray_level(xray)
    _, graph = await _assistant_graph(request, assistant_id, allow_graph_name=True)
    return json_response(drawable_graph(graph, level))


@router.get("/assistants/{assistant_id}/schemas", summary="Get Assistant Schemas")
async def get_assistant_schemas(assistant_id: str, request: Request):
    assistant, graph = await _assistant_graph(request, assistant_id)
    return json_response(graph_schemas(graph, assistant["graph_id"]))


@router.get("/assistants/{assistant_id}/subgraphs", summary="Get Assistant Subgraphs")
async def get_assistant_subgraphs(assistant_id: str, request: Request, recurse: bool = False):
    _, graph = await _assistant_graph(request, assistant_id)
    return json_response(subgraph_schemas(graph, None, recurse))


@router.get(
    "/assistants/{assistant_id}/subgraphs/{namespace}",
    summary="Get Assistant Subgraphs by Namespace",
)
async def get_assistant_subgraphs_ns(
    assistant_id: str, namespace: str, request: Request, recurse: bool = False
):
    _, graph = await _assistant_graph(request, assistant_id)
    return json_response(subgraph_schemas(graph, namespace, recurse))


@router.post("/assistants/{assistant_id}/versions", summary="Get Assistant Versions")
async def get_assistant_versions(
    assistant_id: str, body: models.AssistantVersionsSearch, request: Request
):
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(
        await services(request).assistants.versions(assistant_id, body.fields(), context(request))
    )


@router.post("/assistants/{assistant_id}/latest", summary="Set Latest Assistant Version")
async def set_latest_version(assistant_id: str, body: models.AssistantSetLatest, request: Request):
    assistant_id = uuid_id(assistant_id, "assistant")
    return json_response(
        await services(request).assistants.set_latest(assistant_id, body.version, context(request))
    )
