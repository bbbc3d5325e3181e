"""The route class every API router uses: one parse of each body, and no route without a
declared authorization.

`DeclaredRoute` reads the access its endpoint declares (api/access.py). A route that
declares nothing answers 403 to everyone; a non-public route admits its caller
(api/caller.py) before FastAPI solves the endpoint's parameters. `JsonRequest` parses a
JSON body once, with orjson, refuses what no backend can store (api/limits.py) and counts
the parses, so a test can prove that nothing reads a body twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from graphdock.server.api.access import Access, access_of
from graphdock.server.api.caller import Gate, admit, admitted
from graphdock.server.api.errors import ApiError
from graphdock.server.api.limits import check_json

log = logging.getLogger("graphdock.api")


class BodyStats:
    """How many request bodies arrived and how many JSON parses they took."""

    bodies = 0
    parses = 0


_PARSED = "graphdock.json"  # scope key: (raw body, parsed value) of a body parsed before routing


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raw = await self.body()
            parsed = self.scope.get(_PARSED)
            if parsed is not None and parsed[0] == raw:  # admitted before the router: reuse
                self._json = parsed[1]
                return self._json
            BodyStats.parses += 1
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ApiError(422, "Invalid JSON in request body") from exc
            check_json(raw, value)
            self._json = value
            self.scope[_PARSED] = (raw, value)
        return self._json

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            body = await super().body()
            if body and _PARSED not in self.scope:
                BodyStats.bodies += 1
            return body
        return self._body


class DeclaredRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        access = access_of(self.endpoint)
        where = f"{','.join(sorted(self.methods or ()))} {self.path}"
        if access is None:
            log.error("%s declares no authorization: every request to it is refused", where)

        async def route(request: Request) -> Response:
            request = JsonRequest(request.scope, request.receive)
            if access is None:
                raise ApiError(403, f"{where} declares no authorization, so it is refused")
            if not access.public and not admitted(request, access):
                gate: Gate = request.app.state.gate
                await admit(request, access, gate)
            return await handler(request)

        return route


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes parse bodies once and must declare their access."""
    return APIRouter(route_class=DeclaredRoute, **kwargs)


def declared_routes(app: Any) -> list[tuple[str, Access | None]]:
    """Every route of an assembled app ("METHODS /path") with its declaration: API routes,
    any other route or mount, whose endpoint or app must declare one too, and the routes of
    a user's `http.app`, declared as their wrapper declares them."""
    from fastapi.routing import iter_route_contexts

    out = []
    for route in iter_route_contexts(app.routes):
        inner = getattr(route.original_route, "declared_routes", None)
        if inner is not None:
            out.extend(inner())
            continue
        target = route.endpoint if route.endpoint is not None else getattr(route, "app", None)
        if access_of(target) is None and hasattr(target, "routes"):  # a mounted app: its routes
            prefix = route.path or ""
            out.extend((_under(prefix, r), a) for r, a in declared_routes(target))
            continue
        methods = ",".join(sorted(route.methods or ())) or "*"
        out.append((f"{methods} {route.path}", access_of(target)))
    return out


def _under(prefix: str, route: str) -> str:
    methods, _, path = route.partition(" ")
    return f"{methods} {prefix}{path if path != '/' else ''}" if prefix else route


class AdmittedApp:
    """An ASGI app mounted beside the API (an MCP server, a user's `http.app`) behind the
    same front door: the caller is admitted as for an API route before the app sees the
    request, and the app finds the `Caller` in its scope (`current_caller`). The walk of
    the routes reads the declaration off this wrapper.

    A custom `authenticate` that asks for `body` gets the JSON the request carries, parsed
    here; the mounted app reads the same bytes itself, as a foreign app must."""

    def __init__(self, app: Any, access: Access):
        self.app = app
        self.__graphdock_access__ = access

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        access: Access = self.__graphdock_access__
        if scope["type"] in ("http", "websocket") and not access.public:
            receive = await admit_asgi(scope, receive, send, access)
            if receive is None:
                return
        await self.app(scope, receive, send)


async def admit_asgi(scope: Any, receive: Any, send: Any, access: Access) -> Any:
    """Admit the caller of a raw ASGI request for `access` (once: a caller admitted earlier
    in the request stays). Returns the `receive` to go on with (the body replayed if
    `authenticate` read it), or None when the request was refused and answered here."""
    gate: Gate = scope["app"].state.gate
    if scope["type"] == "websocket":
        from starlette.websockets import WebSocket

        connection: Any = WebSocket(scope, receive, send)
        if admitted(connection, access):
            return receive
        try:
            await admit(connection, access, gate)
        except ApiError as exc:
            await send({"type": "websocket.close", "code": 1008, "reason": exc.detail[:120]})
            return None
        return receive
    request = JsonRequest(scope, receive)
    if admitted(request, access):
        return receive
    try:
        await admit(request, access, gate)
    except ApiError as exc:
        from graphdock.server.api.responses import json_response

        await json_response({"detail": exc.detail}, exc.status, exc.headers)(scope, receive, send)
        return None
    if hasattr(request, "_body"):
        return _once(request._body, receive)
    return receive


class AdmitFirst:
    """`http.middleware_order: auth_first`: the caller is admitted for the route that will
    answer before the user's middleware runs (which then sees `request.user`), and a refused
    request never reaches that middleware. The route itself finds the caller admitted."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            access = matched_access(scope["app"].router.routes, scope)
            if access is not None and not access.public:
                receive = await admit_asgi(scope, receive, send, access)
                if receive is None:
                    return
        await self.app(scope, receive, send)


def matched_access(routes: list[Any], scope: Any) -> Access | None:
    """The declaration of the route the router will pick for `scope` (its first full
    match), or None when none matches (the router answers 404 / 405 then). An included
    FastAPI router is searched the way it matches: through its own routes."""
    from starlette.routing import Match

    for route in routes:
        match, child = route.matches(scope)
        if match is not Match.FULL:
            continue
        if DECLARED in child:
            return child[DECLARED]
        if "endpoint" in child:
            return access_of(child["endpoint"])
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:
            return matched_access(candidates(), scope)
        return access_of(getattr(route, "endpoint", None) or getattr(route, "app", None))
    return None


DECLARED = "graphdock.declared"  # a user route's match puts its declaration in the scope


def _once(body: bytes, receive: Any) -> Any:
    """The body already read for authentication, then the client's own messages."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
