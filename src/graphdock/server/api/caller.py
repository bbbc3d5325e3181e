"""Who is calling, admitted once per request before the endpoint runs.

`admit` authenticates the caller (the API key, then the custom `authenticate` handler, which
may read the body: the one parse the route makes anyway), applies the rate limit, and gives
the endpoint a `Caller`. The endpoint builds each auth handler's value from its parsed,
typed request and calls `Caller.authorize` with a permit its route declared; what the
handler returns becomes the storage filter of that resource in `Caller.ctx`, the context
every service call of the request takes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends
from starlette.requests import HTTPConnection

from graphdock.server.api.access import Access, permit_parts
from graphdock.server.api.auth import Security
from graphdock.server.api.errors import ApiError
from graphdock.server.api.limits import RateLimiter
from graphdock.server.services.context import AuthUser, RequestContext

log = logging.getLogger("graphdock.api")

_SCOPE_KEY = "graphdock.caller"


@dataclass
class Gate:
    """What admitting a caller needs, decided once at start-up."""

    security: Security
    rate: RateLimiter | None = None
    encryption: Any = None
    """The custom `langgraph_sdk.Encryption`, whose context comes from each request."""


class Caller:
    """The authenticated caller of one request."""

    def __init__(
        self, gate: Gate, access: Access, route: str, user: AuthUser | None, ctx: RequestContext
    ):
        self._gate = gate
        self._access = access
        self._route = route
        self.user = user
        self.ctx = ctx

    async def authorize(
        self,
        permit: str,
        value: dict[str, Any],
        *,
        target: dict[str, Any] | None = None,
        writable: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """Run the auth handler for `permit` (one the route declared) on `value`, which it
        may change: what it changed of the `writable` keys is copied into `target` (the
        request's fields). Its filter becomes the storage filter of the permit's resource."""
        if permit not in self._access.permits:
            raise RuntimeError(f"{self._route} runs the {permit} handler but does not declare it")
        resource, action = permit_parts(permit)
        sent = {key: _snapshot(value.get(key, _MISSING)) for key in writable}
        flt = await self._gate.security.authorize(self.user, resource, action, value)
        if target is not None:
            for key in writable:
                new = value.get(key, _MISSING)
                if new is not _MISSING and (key in target or _snapshot(new) != sent[key]):
                    target[key] = list(new) if isinstance(new, tuple) else new
        self.ctx.allow(resource, flt)
        return flt


async def admit(request: HTTPConnection, access: Access, gate: Gate) -> Caller:
    """Authenticate and rate-limit the caller of a request (or a WebSocket handshake);
    refuse with 401/403/429. The Caller is also left in the request's scope."""
    sec = gate.security
    scope = request.scope
    headers = request.headers
    ctx = RequestContext(
        request_id=headers.get("x-request-id") or str(uuid.uuid4()),
        headers=sec.forwarded_headers(scope.get("headers") or []),
        enforced=sec.auth is not None,
    )
    caller_key = None
    user: AuthUser | None = None
    if sec.api_keys:
        caller_key = "key:" + _digest(sec.check_api_key(headers))
    if sec.auth is not None:
        user = await sec.authenticate(request)
        if user is not None:
            ctx.user = user.dict()
            caller_key = "user:" + user.identity
    if gate.rate is not None:
        client = scope.get("client")
        wait = gate.rate.take(caller_key or "ip:" + (client[0] if client else "?"))
        if wait > 0:
            raise ApiError(
                429,
                f"Rate limit exceeded: at most {gate.rate.limit} requests per "
                f"{gate.rate.describe_period()}; retry in {math.ceil(wait)} s",
                {"retry-after": str(math.ceil(wait))},
            )
    if gate.encryption is not None:
        await _encryption_context(request, gate.encryption, user)
    route = scope.get("route")
    path: str = scope["path"]
    caller = Caller(gate, access, getattr(route, "path", path), user, ctx)
    scope[_SCOPE_KEY] = caller
    if user is not None:  # what Starlette's `request.user` / `request.auth` read
        from starlette.authentication import AuthCredentials

        scope["user"], scope["auth"] = user, AuthCredentials(user.permissions)
    return caller


def admitted(request: HTTPConnection, access: Access) -> bool:
    """The caller was admitted for this very declaration earlier in the request (by
    `http.middleware_order: auth_first`, before the user's middleware)."""
    caller = request.scope.get(_SCOPE_KEY)
    return caller is not None and caller._access is access


async def _encryption_context(request: HTTPConnection, encryption: Any, user: Any) -> None:
    """`ctx.metadata` for this request's encryption handlers: the `X-Encryption-Context`
    header (base64 of a JSON object), then what `@encryption.context` derives from it and
    the user."""
    import base64

    from graphdock.server.encryption import set_context

    metadata: dict[str, Any] = {}
    header = request.headers.get("x-encryption-context")
    if header:
        try:
            metadata = orjson.loads(base64.b64decode(header + "=" * (-len(header) % 4)))
        except Exception:
            raise ApiError(400, "X-Encryption-Context must be base64 of a JSON object") from None
        if not isinstance(metadata, dict):
            raise ApiError(400, "X-Encryption-Context must be base64 of a JSON object")
    handler = getattr(encryption, "_context_handler", None)
    if handler is not None and user is not None:
        from langgraph_sdk.encryption.types import EncryptionContext

        try:
            metadata = dict(await handler(user, EncryptionContext(metadata=metadata)))
        except Exception as exc:
            log.error("encryption: the context handler raised %s: %s", type(exc).__name__, exc)
            raise ApiError(500, "The encryption context handler failed") from None
    set_context(metadata)


def current_caller(request: HTTPConnection) -> Caller:
    caller = request.scope.get(_SCOPE_KEY)
    if caller is None:  # a public route asking for a caller: a bug in its declaration
        raise RuntimeError(f"{request.url.path} is public: it has no caller to authorize")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


_MISSING = object()


def _snapshot(value: Any) -> bytes | None:
    """A value's JSON form, to tell whether a handler changed it in place."""
    if value is _MISSING:
        return None
    try:
        return orjson.dumps(value, default=str)
    except TypeError:
        return None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("latin-1", "replace")).hexdigest()[:16]
