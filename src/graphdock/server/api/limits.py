"""What a request may weigh and how often a caller may send one.

* `BodyLimit`: an ASGI middleware that refuses a body larger than `http.max_request_bytes`
  with a JSON 413, counting bytes as they arrive (nothing is buffered or replayed).
* `check_json`: what the server refuses in any JSON body before it is validated: nesting
  deeper than `MAX_JSON_DEPTH`, integers no backend stores (beyond 64 bits), NUL characters
  (PostgreSQL text and JSONB cannot hold them). Each refusal names where the value is.
* `RateLimiter`: a token bucket per caller (`GRAPHDOCK_RATE_LIMIT`).
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphdock.server.api.responses import json_response

DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_JSON_DEPTH = 128
# orjson reads integers up to these bounds exactly (beyond them it gives a float) and
# writes nothing larger: a bigger integer could not be stored as it was sent.
MIN_INT, MAX_INT = -(2**63), 2**64 - 1


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"Request body too large: the limit is {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes or DEFAULT_MAX_REQUEST_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await json_response({"detail": BodyTooLarge(limit).detail}, 413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


class UnstorableJson(HTTPException):
    def __init__(self, detail: str):
        super().__init__(422, detail)


_LONG_NUMBER = re.compile(rb"\d{19,}")


def check_json(raw: bytes, value: Any) -> None:
    """Refuse what no backend can hold, naming where it is. Cheap tests of the raw bytes
    decide whether the parsed value needs walking at all."""
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        _check_depth(value)
    if b"\\u0000" in raw:
        where = _find(value, lambda item: isinstance(item, str) and "\x00" in item)
        if where is not None:
            raise UnstorableJson(
                f"Invalid request: {where}: strings must not contain NUL characters (\\u0000)"
            )
    if _LONG_NUMBER.search(raw):
        # orjson turned out-of-range integers into floats: read them exactly to find them.
        exact = json.loads(raw)
        where = _find(
            exact,
            lambda item: (
                isinstance(item, int)
                and not isinstance(item, bool)
                and not MIN_INT <= item <= MAX_INT
            ),
        )
        if where is not None:
            raise UnstorableJson(
                f"Invalid request: {where}: integers must be within 64 bits "
                f"({MIN_INT} to {MAX_INT}); send larger numbers as strings"
            )


def _check_depth(value: Any) -> None:
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnstorableJson(
                f"Request body is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
            )
        children = item.values() if isinstance(item, dict) else item
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))


def _find(value: Any, bad: Any) -> str | None:
    """The dotted path of the first key or value `bad` accepts ("body" for the root)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if bad(item):
            return path or "body"
        if isinstance(item, dict):
            for key, child in item.items():
                here = f"{path}.{key}" if path else str(key)
                if bad(key):
                    return here
                stack.append((child, here))
        elif isinstance(item, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(item))
    return None


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

    def describe_period(self) -> str:
        for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if self.period % size == 0:
                n = int(self.period // size)
                return name if n == 1 else f"{n} {name}s"
        return f"{self.period:g} s"
