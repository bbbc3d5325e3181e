"""The gateway every HTTP request passes before a route: size limit, JSON sanity, who is
calling (API key, custom auth), rate limit, the request context, and the auth handlers
for the route's resource and action.

A pure ASGI middleware, so that it can read the body once, refuse it early (413, 422),
let auth handlers change it (an owner stamped into metadata, a store namespace scoped to
the user), and hand the route the body as changed. CORS sits outside it (app.py), so
even a 401 or 413 carries the CORS headers a browser needs to read it.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections import OrderedDict
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphdock.server.api.auth import PUBLIC_PATHS, PUBLIC_PREFIXES, AuthUser, Security
from graphdock.server.api.errors import ApiError
from graphdock.server.api.middleware_access import PLANS, Call
from graphdock.server.api.responses import json_response
from graphdock.server.services.context import RequestContext

log = logging.getLogger("graphdock.api")

DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_JSON_DEPTH = 128
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


# ---------------------------------------------------------------- rate limit
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


class RateLimiter:
    """A token bucket per caller: `limit` requests per `period` seconds, refilled smoothly."""

    def __init__(self, limit: int, period: float, max_callers: int = 100_000):
        self.limit, self.period = limit, period
        self.rate = limit / period
        self.max_callers = max_callers
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @classmethod
    def parse(cls, spec: str | None) -> RateLimiter | None:
        """'100/minute', '10/s', '1000/1h'; empty or 'off' for none."""
        if not spec or spec.strip().lower() in ("off", "none", "0"):
            return None
        match = _RATE.match(spec.lower())
        if match is None or int(match[1]) <= 0:
            raise ValueError(
                f"GRAPHDOCK_RATE_LIMIT: {spec!r} is not a rate such as '100/minute' or '10/s'"
            )
        period = _UNITS[match[3]] * (int(match[2]) if match[2] else 1)
        return cls(int(match[1]), float(period))

    def take(self, caller: str, now: float | None = None) -> float:
        """0 if the request may go; else the seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.pop(caller, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self.buckets[caller] = (tokens, now)
        while len(self.buckets) > self.max_callers:
            self.buckets.popitem(last=False)
        return wait


# ---------------------------------------------------------------- helpers
def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Is any object or list nested more than `limit` deep? (Only containers are visited.)"""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))
    return False


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, then the client's own messages (so a disconnect is still seen)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _is_json(headers: Headers) -> bool:
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not ctype or ctype == "application/json" or ctype.endswith("+json")


# The templates auth plans are keyed by, literal ones first ("/threads/search" before
# "/threads/{thread_id}"), compiled the way Starlette compiles route paths.
_TEMPLATES = [
    (template, compile_path(template)[0])
    for template in sorted({path for _, path in PLANS}, key=lambda p: (p.count("{"), p))
]


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        *,
        router_app: Any,
        security: Security,
        max_request_bytes: int | None = None,
        rate_limiter: RateLimiter | None = None,
    ):
        self.app = app
        self.router_app = router_app  # the FastAPI app, whose routes name resource and action
        self.security = security
        self.max_bytes = max_request_bytes or DEFAULT_MAX_REQUEST_BYTES
        self.rate = rate_limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send)
        except ApiError as exc:
            await json_response({"detail": exc.detail}, exc.status, exc.headers)(
                scope, receive, send
            )
        except ClientGone:
            return

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        method = scope["method"]
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise ApiError(413, self._too_large())
        body_bytes, body = b"", None
        if method in BODY_METHODS:
            try:
                body_bytes = await _read_body(receive, self.max_bytes)
            except BodyTooLarge:
                raise ApiError(413, self._too_large()) from None
            receive = _replay(body_bytes, receive)
            if body_bytes.strip() and _is_json(headers):
                try:
                    body = orjson.loads(body_bytes)
                except orjson.JSONDecodeError:
                    raise ApiError(422, "Invalid JSON in request body") from None
                if json_depth_exceeds(body, MAX_JSON_DEPTH):
                    raise ApiError(
                        422,
                        f"Request body is nested too deeply (more than {MAX_JSON_DEPTH} levels)",
                    )

        path = scope["path"]
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or method == "OPTIONS"
        sec = self.security
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        ctx = RequestContext(
            request_id=request_id, headers=sec.forwarded_headers(scope.get("headers") or [])
        )
        scope.setdefault("state", {})["ctx"] = ctx
        if public or not (sec.enabled or self.rate):
            await self.app(scope, receive, send)
            return

        route_path, path_params = self._match(scope)
        caller = None
        user: AuthUser | None = None
        if sec.api_keys:
            key = sec.check_api_key(headers)
            caller = "key:" + _digest(key)
        if sec.auth is not None:
            captured = receive
            user = await sec.authenticate(
                scope, body, path_params, lambda: Request(scope, _replay(body_bytes, captured))
            )
            if user is not None:
                ctx.user = user.dict()
                caller = "user:" + user.identity
        if self.rate is not None:
            client = scope.get("client")
            wait = self.rate.take(caller or "ip:" + (client[0] if client else "?"))
            if wait > 0:
                raise ApiError(
                    429,
                    f"Rate limit exceeded: at most {self.rate.limit} requests per "
                    f"{_period(self.rate.period)}; retry in {math.ceil(wait)} s",
                    {"retry-after": str(math.ceil(wait))},
                )

        plan = PLANS.get((method, route_path)) if sec.auth is not None and route_path else None
        if plan is not None:
            call = Call(self, scope, user, ctx, body, path_params)
            await plan(call)
            if call.body_changed and isinstance(call.body, (dict, list)):
                body_bytes = orjson.dumps(call.body)
                receive = _replay(body_bytes, receive)
                scope["headers"] = [
                    (k, v) for k, v in scope["headers"] if k.lower() != b"content-length"
                ] + [(b"content-length", str(len(body_bytes)).encode())]
        await self.app(scope, receive, send)

    def _too_large(self) -> str:
        return f"Request body too large: the limit is {self.max_bytes} bytes"

    def _match(self, scope: Scope) -> tuple[str | None, dict]:
        """The route template (as PLANS name it) and its path parameters."""
        method, path = scope["method"], scope["path"]
        for template, regex in _TEMPLATES:
            match = regex.match(path)
            if match is not None and (method, template) in PLANS:
                return template, match.groupdict()
        return None, {}

    @property
    def services(self) -> Any:
        return self.router_app.state.services


def install(app: Any, config: Any, environ: Any = None) -> Security:
    """The gateway, and CORS around it, on `app`. Raises AuthSetupError or ValueError
    (with a one-line message) when auth or the rate limit is misconfigured."""
    import os

    from starlette.middleware.cors import CORSMiddleware

    from graphdock.server.config import CorsConfig

    environ = os.environ if environ is None else environ
    security = Security.from_config(config, environ)
    app.add_middleware(
        Gateway,
        router_app=app,
        security=security,
        max_request_bytes=config.http.max_request_bytes,
        rate_limiter=RateLimiter.parse(environ.get("GRAPHDOCK_RATE_LIMIT")),
    )
    cors = config.http.cors or CorsConfig()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors.allow_origins,
        allow_methods=cors.allow_methods,
        allow_headers=cors.allow_headers,
        allow_credentials=cors.allow_credentials,
        allow_origin_regex=cors.allow_origin_regex,
        expose_headers=cors.expose_headers,
        max_age=cors.max_age,
    )
    return security


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode("latin-1", "replace")).hexdigest()[:16]


def _period(seconds: float) -> str:
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = int(seconds // size)
            return name if n == 1 else f"{n} {name}s"
    return f"{seconds:g} s"


__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "Gateway", "RateLimiter", "install"]
