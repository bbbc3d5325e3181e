"""Request descriptions and the small vocabulary of effects a flow asks a transport to perform.

A resource method describes an HTTP exchange once (`Request`); a *flow* (see `_flows.py`) is a
plain generator that yields effects (`Send`, `Open`, `Next`, `Close`, `Sleep`, `Emit`) and
receives their results. The async and sync transports only know how to perform effects, so
every behaviour (retries, reconnects, pagination, error mapping) is written once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson

NO_BODY: Any = object()
"""Marks a request sent without a body (distinct from `json=None`, which also sends none)."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def read_json(response: httpx.Response) -> Any:
    """Decode a JSON body; an empty body (204, or any blank 2xx) is `None`."""
    content = response.content
    return orjson.loads(content) if content.strip() else None


def read_nothing(response: httpx.Response) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Request:
    """Everything needed to perform one API call, independent of sync/async."""

    method: str
    path: str
    json: Any = NO_BODY
    params: Any = None
    headers: Mapping[str, str] | None = None
    reader: Callable[[httpx.Response], Any] = read_json
    on_response: Callable[[httpx.Response], Any] | None = None
    idempotent: bool | None = None  # None: decided by the HTTP method
    follow_location: bool = False  # on a dropped body, re-fetch the `Location` (wait / join)

    @property
    def retryable(self) -> bool:
        return self.method in IDEMPOTENT_METHODS if self.idempotent is None else self.idempotent


# Effects ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Perform `request`; the result is the `httpx.Response` with its body read."""

    request: Request


@dataclass(frozen=True, slots=True)
class Open:
    """Open an SSE stream; the result is a transport handle with `.response`.

    For a >= 400 status the body is read and the stream closed already.
    """

    request: Request


@dataclass(frozen=True, slots=True)
class Next:
    """Read the next `httpx_sse.ServerSentEvent` from a handle; `None` at end of stream."""

    handle: Any


@dataclass(frozen=True, slots=True)
class Close:
    handle: Any


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand `value` to the caller iterating over the flow."""

    value: Any


@dataclass(frozen=True, slots=True)
class Dial:
    """Open a WebSocket to `path` (on the client's base URL, `ws`/`wss`); the result is a handle.

    A refused upgrade raises `SocketClosed` with 4000 + its HTTP status; an unreachable
    server, an `httpx.ConnectError`.
    """

    path: str
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send one text frame on a WebSocket handle."""

    handle: Any
    text: str


@dataclass(frozen=True, slots=True)
class Receive:
    """The next text frame of a WebSocket handle; `None` once the peer closed it normally.

    An abnormal close raises `SocketClosed` (an application code 4xxx, or 1006 for a drop).
    """

    handle: Any


class SocketClosed(Exception):
    """A WebSocket ended other than normally: `code` is the close code (4000 + an HTTP status
    when the server refused the connection), `reason` its text."""

    def __init__(self, code: int, reason: str = ""):
        super().__init__(f"WebSocket closed with code {code}{': ' + reason if reason else ''}")
        self.code, self.reason = code, reason


class BodyReadError(httpx.TransportError):
    """The response headers arrived but reading the body failed (e.g. dropped connection)."""

    def __init__(self, message: str, *, request: httpx.Request, response: httpx.Response):
        super().__init__(message, request=request)
        self.response = response


# Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for connection errors and 429/502/503/504.

    Non-idempotent requests (e.g. creating a run) are retried only when the connection
    could not be established at all, so the server never saw them.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_reconnects: int = 5

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_backoff))
        base = min(self.max_backoff, self.backoff * 2.0**attempt)
        return base + random.uniform(0, base / 4)


@dataclass(frozen=True)
class Settings:
    """Per-client knobs the flows need."""

    base_url: httpx.URL = field(default_factory=lambda: httpx.URL("http://localhost:8123"))
    retry: RetryPolicy = field(default_factory=RetryPolicy)


# Encoding --------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None) or getattr(obj, "dict", None)
    if callable(dump) and not isinstance(obj, type):
        return dump()
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def encode_json(obj: Any) -> bytes:
    """Compact JSON; pydantic models, dataclasses, datetimes, UUIDs and sets are accepted."""
    return orjson.dumps(
        obj, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def path(template: str, *ids: Any) -> str:
    """Fill `{}` slots with percent-encoded ids (`/` and all-dot segments are escaped)."""
    parts = []
    for value in ids:
        if value is None:
            raise TypeError("path parameter must not be None")
        if isinstance(value, bytes):
            raise TypeError("path parameter must be a str or UUID, not bytes")
        quoted = quote(str(value), safe="")
        if quoted and set(quoted) == {"."}:
            quoted = "%2E" * len(quoted)
        parts.append(quoted)
    return template.format(*parts)


def compact(mapping: Mapping[str, Any], *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Drop None values (keys in `keep` stay even when None)."""
    return {k: v for k, v in mapping.items() if v is not None or k in keep}


def truthy(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Drop falsy values (None, {}, [], "")."""
    return {k: v for k, v in mapping.items() if v}


def merge_params(own: Mapping[str, Any], extra: Any) -> Any:
    """Merge caller `params` over the ones a method builds itself."""
    if not extra:
        return dict(own) or None
    if isinstance(extra, Mapping):
        return {**own, **extra}
    return extra if not own else [*own.items(), *httpx.QueryParams(extra).multi_items()]
