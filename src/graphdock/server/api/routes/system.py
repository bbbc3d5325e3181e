"""/ok, /info, /metrics, /docs, /openapi.json: is the server up, what is it, how busy is it,
what does it serve. All public, as the reference's meta routes are. `health` (/ok and /)
is always served; `fixed` (/metrics, /docs) and `router` (/info, /openapi.json) go with
`http.disable_meta`. A user's `http.app` may shadow `/`, /info and /openapi.json, never
/ok, /metrics or /docs (as on the official server)."""

from __future__ import annotations

from fastapi import Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, JSONResponse, Response

from graphdock._version import __version__
from graphdock.server.api.access import public
from graphdock.server.api.deps import services
from graphdock.server.api.responses import json_response
from graphdock.server.api.routing import BodyStats, api_router

health = api_router(tags=["System"])
root = api_router(tags=["System"])
fixed = api_router(tags=["System"])
router = api_router(tags=["System"])


@health.get("/ok", summary="Health Check")
@public
async def ok(request: Request):
    return json_response({"ok": True, "services": {}})


@root.get("/", include_in_schema=False)
@public
async def root_ok(request: Request):
    return json_response({"ok": True, "services": {}})


@router.get("/openapi.json", include_in_schema=False)
@public
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@fixed.get("/docs", include_in_schema=False)
@public
async def docs(request: Request) -> HTMLResponse:
    openapi_url = request.scope.get("root_path", "") + "/openapi.json"
    return get_swagger_ui_html(openapi_url=openapi_url, title=f"{request.app.title} - docs")


@router.get("/info", summary="Server Information")
@public
async def info(request: Request):
    import langgraph.version

    svc = services(request)
    return json_response(
        {
            "version": __version__,
            "langgraph_py_version": getattr(langgraph.version, "__version__", None),
            "flags": {
                "assistants": True,
                "crons": "crons" in request.app.state.route_groups,
                "langsmith": False,
                "store": "store" in request.app.state.route_groups,
            },
            "host": {
                "kind": "self-hosted",
                "project_id": None,
                "host_revision_id": None,
                "revision_id": None,
                "tenant_id": None,
            },
            "graphdock": {"storage": svc.settings.storage_kind, "graphs": svc.graphs.ids},
        }
    )


@fixed.get("/metrics", summary="System Metrics")
@public
async def metrics(request: Request, format: str = "prometheus"):
    svc = services(request)
    pool = svc.pool
    active = pool.active if pool else 0
    maximum = pool.concurrency if pool else 0
    # The in-process event bus tells what it holds; a Redis bus holds nothing here.
    events = svc.bus.stats() if hasattr(svc.bus, "stats") else None
    if format == "json":
        figures = {
            "workers": {"max": maximum, "active": active, "available": maximum - active},
            # request bodies received, and the JSON parses they took (one each)
            "requests": {"bodies": BodyStats.bodies, "json_parses": BodyStats.parses},
        }
        if events is not None:
            figures["events"] = events
        return json_response(figures)
    body = (
        f"# TYPE lg_api_workers_max gauge\nlg_api_workers_max {maximum}\n"
        f"# TYPE lg_api_workers_active gauge\nlg_api_workers_active {active}\n"
        f"# TYPE lg_api_workers_available gauge\nlg_api_workers_available {maximum - active}\n"
    )
    if events is not None:
        body += (
            "# TYPE graphdock_event_stored_bytes gauge\n"
            f"graphdock_event_stored_bytes {events['stored_bytes']}\n"
            "# TYPE graphdock_event_logs_dropped_for_memory counter\n"
            f"graphdock_event_logs_dropped_for_memory {events['dropped_for_memory']}\n"
        )
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
