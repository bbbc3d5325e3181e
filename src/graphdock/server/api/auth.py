"""Who is calling and what they may touch: API keys and custom auth (`langgraph_sdk.Auth`).

`Security` is decided once at start-up from `langgraph.json` (`auth.path`,
`http.configurable_headers`) and the environment (`GRAPHDOCK_API_KEYS`,
`GRAPHDOCK_API_KEYS_FILE`, `GRAPHDOCK_AUTH=off`). For each request to a non-public route
(api/caller.py) it answers:

1. `authenticate`: the API key (`x-api-key`, compared in constant time), then the custom
   `@auth.authenticate` handler, which gets the request's parts by parameter name
   (`authorization`, `headers`, `method`, `path`, `path_params`, `query_params`, `body`,
   `request`, `scope`) as the official server passes them and returns the user.
2. `authorize`: the `@auth.on` handler for a (resource, action), most specific first, with
   a value the handler may change (stamp an owner into `metadata`, scope a store
   namespace). The route applies what it changed; the filter it returns becomes the
   resource's storage filter for the rest of the request.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request

from graphdock.server.api.access import Action, Resource
from graphdock.server.api.errors import ApiError
from graphdock.server.services.context import AuthUser
from graphdock.server.settings import Settings

log = logging.getLogger("graphdock.auth")

# Request headers that never reach a run's config, whatever `configurable_headers` says.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-service-key",
        "x-tenant-id",
        "x-auth-scheme",
    }
)
# Forwarded without any `configurable_headers` (tracing context, as in the reference).
DEFAULT_FORWARDED = ("langsmith-trace", "baggage")

AUTHENTICATE_PARAMS = frozenset(
    {
        "request",
        "body",
        "path",
        "method",
        "path_params",
        "query_params",
        "headers",
        "authorization",
        "scope",
        "scopes",
        "user",
    }
)


class AuthSetupError(Exception):
    """Auth is misconfigured: told at start-up, in one line."""


# ---------------------------------------------------------------- the user
def _jsonable(value: Any) -> Any:
    """What a run's config can carry: anything else becomes its string form."""
    return orjson.loads(orjson.dumps(value, default=str))


def normalize_user(result: Any) -> AuthUser:
    """The authenticate handler's answer: a string identity, a dict with `identity`, an
    object with an `identity` attribute, or a `(permissions, user)` pair."""
    permissions = None
    if isinstance(result, tuple) and len(result) == 2:
        permissions, result = result
    if isinstance(result, str):
        data: dict[str, Any] = {"identity": result}
    elif isinstance(result, Mapping) and isinstance(result.get("identity"), str):
        data = dict(result)
    elif isinstance(getattr(result, "identity", None), str):
        data = {}
        for getter in ("model_dump", "dict"):
            fn = getattr(result, getter, None)
            if callable(fn):
                try:
                    data = dict(fn())
                    break
                except Exception:
                    pass
        data["identity"] = result.identity
        for name in ("is_authenticated", "display_name", "permissions"):
            if hasattr(result, name) and name not in data:
                data[name] = getattr(result, name)
    else:
        raise TypeError(
            "the authenticate handler must return a user identity (str), a dict with an "
            f"'identity' string, or an object with an 'identity' attribute; got {type(result).__name__}"
        )
    if permissions is not None:
        data["permissions"] = permissions
    data.setdefault("is_authenticated", True)
    data["display_name"] = data.get("display_name") or data["identity"]
    data["permissions"] = list(data.get("permissions") or [])
    return AuthUser(_jsonable(data), result)


# ---------------------------------------------------------------- set-up
def read_api_keys(settings: Settings) -> list[str]:
    """Keys from GRAPHDOCK_API_KEYS (comma-separated) and GRAPHDOCK_API_KEYS_FILE (one a
    line; blank lines and `#` comments skipped)."""
    keys = [k.strip() for k in (settings.api_keys or "").split(",")]
    path = settings.api_keys_file
    if path:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as exc:
            raise AuthSetupError(
                f"GRAPHDOCK_API_KEYS_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        keys += [line.strip() for line in lines if not line.strip().startswith("#")]
    return [k for k in dict.fromkeys(keys) if k]


def load_auth(path: str, base_dir: Path) -> Any:
    """The `langgraph_sdk.Auth` object `auth.path` names ('./auth.py:auth' or 'pkg.mod:auth')."""
    from graphdock.server import loader

    try:
        target = loader.load(path, base_dir)
    except loader.LoadError as exc:
        raise AuthSetupError(f"auth.path: {exc}") from exc
    if not hasattr(target, "_handlers") or not hasattr(target, "_authenticate_handler"):
        raise AuthSetupError(
            f"auth.path: {path} is a {type(target).__name__}, not a langgraph_sdk.Auth object"
        )
    return target


@dataclass
class Security:
    api_keys: list[bytes] = field(default_factory=list)
    auth: Any = None  # a langgraph_sdk.Auth, or None
    header_includes: list[str] | None = None
    header_excludes: list[str] = field(default_factory=list)
    cache: AuthenticateCache | None = None
    _params: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Any, settings: Settings) -> Security:
        sec = cls()
        if not settings.auth_off:
            sec.api_keys = [k.encode() for k in read_api_keys(settings)]
        auth_cfg = getattr(config, "auth", None)
        if auth_cfg is not None and auth_cfg.path:
            from graphdock.server import loader

            loader.add_import_paths(config.dependencies, config.base_dir)
            sec.auth = load_auth(auth_cfg.path, config.base_dir)
            fn = sec.auth._authenticate_handler
            if fn is not None:
                sec._params = _param_names(fn)
            if auth_cfg.cache is not None:
                sec.cache = AuthenticateCache(auth_cfg.cache)
        ch = config.http.configurable_headers
        if ch is not None:
            sec.header_includes = [p.lower() for p in ch.get("includes") or []] or None
            sec.header_excludes = [p.lower() for p in ch.get("excludes") or []]
        return sec

    @property
    def authenticate_params(self) -> frozenset[str]:
        """The request parts the custom `authenticate` handler asks for."""
        return self._params

    @property
    def enabled(self) -> bool:
        return bool(self.api_keys) or self.auth is not None

    def describe(self) -> str:
        parts = []
        if self.api_keys:
            parts.append(f"API keys ({len(self.api_keys)} key(s), sent as x-api-key)")
        if self.auth is not None:
            parts.append("custom auth (langgraph.json auth.path)")
        return " + ".join(parts) or "off: every request is allowed"

    # ------------------------------------------------------------ headers for run config
    def forwarded_headers(self, headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for raw_name, raw_value in headers:
            name = raw_name.decode("latin-1").lower()
            if name in SECRET_HEADERS:
                continue
            if self.header_includes is None:
                wanted = name in DEFAULT_FORWARDED
            else:
                wanted = any(fnmatch.fnmatchcase(name, p) for p in self.header_includes)
            if wanted and not any(fnmatch.fnmatchcase(name, p) for p in self.header_excludes):
                out[name] = raw_value.decode("latin-1")
        return out

    # ------------------------------------------------------------ authentication
    def check_api_key(self, headers: Mapping[str, str]) -> str:
        """The matching key, after comparing against every key in constant time."""
        sent = headers.get("x-api-key")
        if sent is None:
            raise ApiError(401, "Missing API key: send it in the x-api-key header")
        sent_bytes = sent.encode("latin-1", "replace")
        found = False
        for key in self.api_keys:
            found |= hmac.compare_digest(sent_bytes, key)
        if not found:
            raise ApiError(401, "Invalid API key")
        return sent

    async def authenticate(self, request: HTTPConnection) -> AuthUser | None:
        """The custom `authenticate` handler's user, given the parts it asks for by name."""
        fn = self.auth._authenticate_handler if self.auth is not None else None
        if fn is None:
            return None
        scope = request.scope
        raw_headers = scope.get("headers") or []
        available: dict[str, Callable[[], Any]] = {
            "request": lambda: request,
            "path": lambda: scope["path"],
            "method": lambda: scope.get("method", "GET"),  # a WebSocket handshake is a GET
            "path_params": lambda: dict(request.path_params),
            "query_params": lambda: request.query_params,
            "headers": lambda: dict(raw_headers),
            "authorization": lambda: _header(raw_headers, b"authorization"),
            "scope": lambda: scope,
            "scopes": lambda: [],
            "user": lambda: None,
        }
        cache_key = self.cache.key(raw_headers) if self.cache is not None else None
        if cache_key is not None:
            cached = self.cache.get(cache_key)  # type: ignore[union-attr]
            if cached is not None:
                return cached
        kwargs = {name: available[name]() for name in self._params if name != "body"}
        if "body" in self._params:
            kwargs["body"] = await _json_body(request)
        try:
            result = fn(**kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            raise _as_api_error(exc, "authenticate") from None
        try:
            user = normalize_user(result)
        except TypeError as exc:
            log.error("auth: %s", exc)
            raise ApiError(500, "Authentication handler returned an invalid user") from None
        if cache_key is not None:
            self.cache.put(cache_key, user)  # type: ignore[union-attr]
        return user

    # ------------------------------------------------------------ authorization
    def handler_for(self, resource: str, action: str) -> Any:
        auth = self.auth
        if auth is None:
            return None
        for key in ((resource, action), (resource, "*"), ("*", action), ("*", "*")):
            handlers = auth._handlers.get(key)
            if handlers:
                return handlers[-1]
        return auth._global_handlers[-1] if auth._global_handlers else None

    async def authorize(
        self, user: AuthUser | None, resource: Resource, action: Action, value: dict
    ) -> dict | None:
        """Run the handler for (resource, action) on `value` (which it may change).
        Returns its filter; raises ApiError 403 when it denies."""
        handler = self.handler_for(resource, action)
        if handler is None:
            return None
        from langgraph_sdk.auth.types import AuthContext

        if user is None:
            user = AuthUser({"identity": "", "is_authenticated": False, "permissions": []})
        ctx = AuthContext(user=user, permissions=user.permissions, resource=resource, action=action)
        try:
            result = await handler(ctx=ctx, value=value)
        except AssertionError as exc:
            raise ApiError(403, str(exc) or "Forbidden") from None
        except Exception as exc:
            raise _as_api_error(exc, f"{resource}.{action}") from None
        if result is None or result is True:
            return None
        if result is False:
            raise ApiError(403, "Forbidden")
        if isinstance(result, Mapping):
            return dict(result) or None
        log.error(
            "auth: the %s.%s handler returned a %s; expected a filter dict, None or a bool",
            resource,
            action,
            type(result).__name__,
        )
        raise ApiError(500, "Authorization handler returned an invalid result")


class AuthenticateCache:
    """`auth.cache`: the users `authenticate` returned, kept for `ttl_seconds` per value of
    the `cache_keys` headers (at most `max_size`, least recently used dropped first). A
    request that carries none of those headers is not cached; neither is a refusal. The
    header values are kept as digests, never as sent."""

    def __init__(self, config: Any):
        self.names = [k.encode("latin-1") for k in config.cache_keys]
        self.ttl = config.ttl_seconds
        self.size = config.max_size
        self._items: OrderedDict[bytes, tuple[float, AuthUser]] = OrderedDict()

    def key(self, raw_headers: list[tuple[bytes, bytes]]) -> bytes | None:
        found = {k.lower(): v for k, v in raw_headers if k.lower() in self.names}
        if not found:
            return None
        digest = hashlib.sha256()
        for name in self.names:
            digest.update(name + b"\0" + found.get(name, b"\1") + b"\0")
        return digest.digest()

    def get(self, key: bytes) -> AuthUser | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: bytes, user: AuthUser) -> None:
        self._items[key] = (time.monotonic() + self.ttl, user)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


async def _json_body(request: HTTPConnection) -> dict[str, Any]:
    """The request's JSON object (the route's own parse of it), or {} for any other body."""
    if not isinstance(request, Request) or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return {}
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        return {}
    if not await request.body():
        return {}
    body = await request.json()
    return body if isinstance(body, dict) else {}


def _header(raw_headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for k, v in raw_headers:
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def _param_names(fn: Callable) -> frozenset[str]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    unknown = [
        n
        for n, p in params.items()
        if n not in AUTHENTICATE_PARAMS
        and p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if unknown:
        raise AuthSetupError(
            f"auth: the authenticate handler asks for {unknown}; it may take any of "
            f"{sorted(AUTHENTICATE_PARAMS - {'user'})}"
        )
    return frozenset(n for n in params if n in AUTHENTICATE_PARAMS)


def _as_api_error(exc: Exception, where: str) -> ApiError:
    """A handler's `Auth.exceptions.HTTPException` (or FastAPI/Starlette's) keeps its status
    and message; anything else is the handler's bug: logged (never the request's
    credentials), answered as a 500 that names no secret."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status < 600:
        detail = getattr(exc, "detail", None)
        headers = getattr(exc, "headers", None)
        return ApiError(
            status,
            str(detail) if detail is not None else "Unauthorized",
            dict(headers) if headers else None,
        )
    log.error("auth: the %s handler raised %s: %s", where, type(exc).__name__, exc)
    return ApiError(500, f"The {where} auth handler failed")
