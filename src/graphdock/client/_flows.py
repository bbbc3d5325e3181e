"""Multi-step behaviours written once as generators of effects (see `_wire.py`).

`exchange` sends a request with retries and maps errors; `follow_location` re-fetches a
long-poll result after a drop; `sse_stream` streams events and resumes a dropped run stream
with `Last-Event-ID`; `paginate` walks pages. The transports run them sync or async.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Generator
from typing import Any, NoReturn

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    RateLimitError,
    connection_error,
    status_error,
)
from ._sse import END_EVENTS, to_stream_part, to_v2
from ._wire import (
    RETRY_STATUSES,
    BodyReadError,
    Close,
    Emit,
    Next,
    Open,
    Request,
    Send,
    Settings,
    Sleep,
)

Flow = Generator[Any, Any, Any]

_RUN_STREAM = re.compile(r"^(?P<run>.*/threads/[^/]+/runs/[^/]+)/stream$")
_THREAD_RUNS = re.compile(r"^/threads/(?P<thread>[^/]+)/runs")


def _retry_after(response: httpx.Response | None) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _should_retry(error: Exception, request: Request) -> bool:
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True  # never reached the server: safe for any method
    if not request.retryable:
        return False
    if isinstance(error, APIStatusError):
        return error.status_code in RETRY_STATUSES
    return isinstance(error, httpx.TransportError)


def _final(error: Exception) -> Exception:
    if isinstance(error, httpx.TransportError) and not isinstance(error, APIConnectionError):
        return connection_error(error)
    return error


def _raise(error: Exception) -> NoReturn:
    final = _final(error)
    if final is error:
        raise error
    raise final from error


def exchange(request: Request, settings: Settings) -> Flow:
    """Send `request`, retrying transient failures; return `request.reader(response)`."""
    attempt = 0
    while True:
        response = None
        try:
            response = yield Send(request)
        except BodyReadError as exc:
            location = exc.response.headers.get("location")
            if request.follow_location and location:
                warnings.warn(
                    f"Request failed, attempting reconnect to Location: {location}", stacklevel=2
                )
                return (yield from follow_location(request, location, settings))
            error: Exception = exc
        except httpx.TransportError as exc:
            error = exc
        else:
            if request.on_response is not None:
                request.on_response(response)
            if response.status_code < 400:
                return request.reader(response)
            error = status_error(response)
        if attempt < settings.retry.max_retries and _should_retry(error, request):
            yield Sleep(settings.retry.delay(attempt, _retry_after(response)))
            attempt += 1
            continue
        _raise(error)


def follow_location(request: Request, location: str, settings: Settings) -> Flow:
    """Re-fetch a long-poll result from its `Location` (GET, retried like any read)."""
    check_same_origin(location, settings.base_url)
    again = Request(
        "GET", location, headers=request.headers, reader=request.reader, idempotent=True
    )
    for attempt in range(settings.retry.max_reconnects + 1):
        try:
            return (yield from exchange(again, settings))
        except (APIConnectionError, RateLimitError, InternalServerError):
            if attempt >= settings.retry.max_reconnects:
                raise
            yield Sleep(settings.retry.delay(attempt))
    raise AssertionError("unreachable")


def check_same_origin(location: str, base_url: httpx.URL) -> None:
    """Refuse to follow a reconnect `Location` to another origin (it would leak the API key)."""
    url = httpx.URL(location)
    if not url.is_absolute_url:
        return
    if (url.scheme, url.host, url.port or _default_port(url.scheme)) != (
        base_url.scheme,
        base_url.host,
        base_url.port or _default_port(base_url.scheme),
    ):
        raise ValueError(f"Refusing to follow cross-origin reconnect Location: {location}")


def _default_port(scheme: str) -> int | None:
    return {"http": 80, "https": 443}.get(scheme)


def _reconnect_request(original: Request, location: str, last_id: str | None) -> Request:
    headers = {
        k: v
        for k, v in (original.headers or {}).items()
        if k.lower() not in ("content-length", "content-type", "last-event-id")
    }
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    keep_params = original.method == "GET" and original.path == location
    return Request(
        "GET", location, params=original.params if keep_params else None, headers=headers
    )


def sse_stream(request: Request, settings: Settings, *, version: str = "v1") -> Flow:
    """Stream `StreamPart`s (or v2 dicts), resuming transparently when a run stream drops.

    The rejoin target is the response's `Location` header (or, failing that, the run id
    from the first `metadata` event on a thread run). A reconnect sends `Last-Event-ID`
    so the server replays only what was missed. A stream that closes without `end`/`error`
    is rejoined while the run is still pending or running.
    """
    policy = settings.retry
    current, first = request, True
    location: str | None = None
    last_id: str | None = None
    attempts = 0
    thread_match = _THREAD_RUNS.match(request.path)
    while True:
        try:
            handle = yield Open(current)
            response = handle.response
            if first and request.on_response is not None:
                request.on_response(response)
            if response.status_code >= 400:
                raise status_error(response)
        except (httpx.TransportError, APIStatusError) as exc:
            retryable = _should_retry(exc, current) if first else _reconnectable(exc)
            limit = policy.max_retries if first else policy.max_reconnects
            if not retryable or (first and attempts >= limit):
                _raise(exc)
            if attempts >= limit:
                raise APIConnectionError(
                    "Exceeded maximum SSE reconnection attempts", None
                ) from exc
            yield Sleep(policy.delay(attempts))
            attempts += 1
            continue
        if first:
            attempts = 0
        if new_location := response.headers.get("location"):
            check_same_origin(new_location, settings.base_url)
            location = new_location
        first = False
        ended, dropped = False, None
        try:
            while (sse := (yield Next(handle))) is not None:
                if sse.id:
                    last_id = sse.id
                part = to_stream_part(sse)
                if part is None:
                    continue
                if location is None and thread_match and part.event == "metadata":
                    run_id = (
                        (part.data or {}).get("run_id") if isinstance(part.data, dict) else None
                    )
                    if run_id:
                        location = f"/threads/{thread_match['thread']}/runs/{run_id}/stream"
                ended = ended or part.event in END_EVENTS
                attempts = 0
                value = to_v2(part) if version == "v2" else part
                if value is not None:
                    yield Emit(value)
        except httpx.HTTPError as exc:
            dropped = exc
        yield Close(handle)
        if ended:
            return
        if dropped is None:
            if location is None or not (
                yield from _run_still_active(location, current.headers, settings)
            ):
                return
        elif location is None:
            _raise(dropped)
        if attempts >= policy.max_reconnects:
            raise APIConnectionError(
                "Exceeded maximum SSE reconnection attempts", None
            ) from dropped
        if last_id is None:
            warnings.warn(
                "Reconnecting to a run stream without a Last-Event-ID: events may be missed. "
                "Create the run with stream_resumable=True to get resumable event ids.",
                stacklevel=2,
            )
        yield Sleep(policy.delay(attempts))
        attempts += 1
        current = _reconnect_request(request, location, last_id)


def _reconnectable(exc: Exception) -> bool:
    if isinstance(exc, APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def _run_still_active(location: str, headers: Any, settings: Settings) -> Flow:
    """After a clean close without `end`: is the run behind `location` still going?"""
    match = _RUN_STREAM.match(httpx.URL(location).path)
    if not match:
        return False
    plain = {
        k: v
        for k, v in (headers or {}).items()
        if k.lower() not in ("accept", "last-event-id", "content-type", "content-length")
    }
    try:
        run = yield from exchange(
            Request("GET", match["run"], headers={**plain, "Accept": "application/json"}),
            settings,
        )
    except (APIConnectionError, RateLimitError, InternalServerError):
        return True
    except APIStatusError:
        return False
    return isinstance(run, dict) and run.get("status") in ("pending", "running")


def paginate(
    page_request: Callable[[int, int], Request],
    settings: Settings,
    *,
    offset: int = 0,
    page_size: int = 100,
    items: Callable[[Any], list[Any]] = lambda body: body,
) -> Flow:
    """Yield every item of a paged search, requesting `page_size` items per call."""
    while True:
        page = items((yield from exchange(page_request(offset, page_size), settings))) or []
        for item in page:
            yield Emit(item)
        if len(page) < page_size:
            return
        offset += len(page)
