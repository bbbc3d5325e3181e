"""Server-sent events, framed byte for byte as the reference server frames them (CRLF,
one `data:` line), with an `id:` on every event and a heartbeat comment on idle streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from starlette.responses import StreamingResponse

from graphdock.server.ports.bus import Event

HEARTBEAT = b": heartbeat\r\n\r\n"
HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no", "connection": "keep-alive"}


def frame(event: Event) -> bytes:
    return (
        b"event: "
        + event.event.encode()
        + b"\r\ndata: "
        + event.data
        + b"\r\nid: "
        + event.id.encode()
        + b"\r\n\r\n"
    )


def error_frame(error: str, message: str) -> bytes:
    import orjson

    return (
        b"event: error\r\ndata: " + orjson.dumps({"error": error, "message": message}) + b"\r\n\r\n"
    )


async def sse_body(
    batches: AsyncIterator[list[Event]],
    on_abort: Callable[[], Awaitable[None]] | None = None,
    prefix: bytes = b"",
) -> AsyncIterator[bytes]:
    """Frames batches as they come; `on_abort` runs if the client goes away mid-stream."""
    finished = False
    try:
        if prefix:
            yield prefix
        async for batch in batches:
            yield b"".join(map(frame, batch)) if batch else HEARTBEAT
        finished = True
    finally:
        if not finished and on_abort is not None:
            # The response is being cancelled: shield the clean-up so it is not cancelled too.
            with anyio.CancelScope(shield=True):
                await on_abort()


class WatchfulStreamingResponse(StreamingResponse):
    """Notices a client that leaves while the stream is quiet.

    Under ASGI 2.4 Starlette learns of a disconnect only when its next write fails, which on
    an idle stream can be many seconds away; a run with `on_disconnect: cancel` must stop at
    once. Declaring 2.3 makes Starlette listen for `http.disconnect` alongside the body.
    """

    async def __call__(self, scope, receive, send) -> None:
        scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": "2.3"}}
        await super().__call__(scope, receive, send)


def sse_response(
    body: AsyncIterator[bytes], headers: dict[str, str] | None = None
) -> StreamingResponse:
    return WatchfulStreamingResponse(
        body, media_type="text/event-stream; charset=utf-8", headers={**HEADERS, **(headers or {})}
    )
