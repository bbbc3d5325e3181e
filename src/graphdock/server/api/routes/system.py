"""/ok, /info, /metrics: is the server up, what is it, how busy is it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from graphdock import __version__
from graphdock.server.api.deps import services
from graphdock.server.api.responses import json_response

router = APIRouter(tags=["System"])


@router.get("/ok", summary="Health Check")
@router.get("/", include_in_schema=False)
async def ok(request: Request):
    return json_response({"ok": True, "services": {}})


@router.get("/info", summary="Server Information")
async def info(request: Request):
    import langgraph.version

    svc = services(request)
    return json_response(
        {
            "version": __version__,
            "langgraph_py_version": getattr(langgraph.version, "__version__", None),
            "flags": {
                "assistants": True,
                "crons": "crons" not in svc.config.http.disabled,
                "langsmith": False,
                "store": "store" not in svc.config.http.disabled,
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


@router.get("/metrics", summary="System Metrics")
async def metrics(request: Request, format: str = "prometheus"):
    svc = services(request)
    pool = svc.pool
    active = pool.active if pool else 0
    maximum = pool.concurrency if pool else 0
    # The in-process event bus tells what it holds; a Redis bus holds nothing here.
    events = svc.bus.stats() if hasattr(svc.bus, "stats") else None
    if format == "json":
        figures = {"workers": {"max": maximum, "active": active, "available": maximum - active}}
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
