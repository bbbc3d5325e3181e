"""Perform the effects of a flow with httpx, either async or sync.

This is the only place that knows whether I/O awaits. Each transport has an effect
interpreter (`_perform`) and a runner that drives a flow generator to completion (`run`)
or exposes its `Emit`s as an iterator (`iterate`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any, Generic, Self, TypeVar

import httpx
from httpx_sse import EventSource

from ._flows import Flow
from ._wire import (
    NO_BODY,
    BodyReadError,
    Close,
    Dial,
    Emit,
    Next,
    Open,
    Receive,
    Request,
    Send,
    Settings,
    Sleep,
    SocketClosed,
    Transmit,
    encode_json,
)

T = TypeVar("T")

_SSE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-store"}


class _Handle:
    """An open SSE response and its event iterator."""

    __slots__ = ("events", "response")

    def __init__(self, response: httpx.Response, events: Any = None):
        self.response = response
        self.events = events


class _Socket:
    """An open WebSocket (the `websockets` library's connection, async or sync)."""

    __slots__ = ("ws",)
    response = None

    def __init__(self, ws: Any):
        self.ws = ws


def websockets_module() -> Any:
    """The `websockets` library, imported only when a WebSocket is first dialled."""
    try:
        import websockets.exceptions
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The WebSocket transport needs the `websockets` package: pip install websockets "
            '(or pip install "graphdock[websocket]")'
        ) from exc
    return websockets


def _closed(exc: Any) -> SocketClosed:
    frame = getattr(exc, "rcvd", None)
    if frame is None:
        return SocketClosed(1006, "connection lost")
    return SocketClosed(frame.code, frame.reason)


def _refused(exc: Exception) -> Exception:
    """A failed WebSocket handshake in our terms: a refused upgrade or an unreachable server."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return SocketClosed(4000 + status, "upgrade refused")
    return httpx.ConnectError(f"WebSocket connection failed: {exc}")


_DONE = object()


class _Stepper:
    """Feeds effect results (or errors) back into a flow and hands out its next effect."""

    __slots__ = ("error", "flow", "handles", "result", "value")

    def __init__(self, flow: Flow, result: list[Any]):
        self.flow, self.result = flow, result
        self.value: Any = None
        self.error: BaseException | None = None
        self.handles: list[Any] = []

    def advance(self) -> Any:
        value, error, self.value, self.error = self.value, self.error, None, None
        try:
            return self.flow.throw(error) if error is not None else self.flow.send(value)
        except StopIteration as stop:
            self.result.append(stop.value)
            return _DONE


class _BaseTransport:
    def __init__(self, client: httpx.Client | httpx.AsyncClient, settings: Settings | None = None):
        self.client = client
        self.settings = settings or Settings(base_url=client.base_url)

    def build(self, request: Request, *, sse: bool = False) -> httpx.Request:
        headers: dict[str, str] = dict(_SSE_HEADERS) if sse else {}
        content = None
        if request.json is not NO_BODY and request.json is not None:
            content = encode_json(request.json)
            headers["Content-Type"] = "application/json"
        headers.update(request.headers or {})
        return self.client.build_request(
            request.method, request.path, params=request.params, headers=headers, content=content
        )

    def socket_target(self, dial: Dial) -> tuple[str, list[tuple[str, str]]]:
        """The `ws://` / `wss://` URL of a Dial and the client's headers for its handshake."""
        base = self.client.base_url
        scheme = "wss" if base.scheme == "https" else "ws"
        prefix = base.path.rstrip("/")
        url = base.copy_with(scheme=scheme, path=prefix + dial.path, query=None)
        headers = {**self.client.headers, **(dial.headers or {})}
        keep = [(k, v) for k, v in headers.items() if k.lower() not in _HOP_HEADERS]
        return str(url), keep


_HOP_HEADERS = frozenset(
    {"host", "connection", "upgrade", "accept", "accept-encoding", "content-length"}
)


class AsyncTransport(_BaseTransport):
    """Runs flows on an `httpx.AsyncClient`: `run` gives a coroutine, `iterate` an async stream."""

    client: httpx.AsyncClient

    async def _perform(self, effect: Any, handles: list[Any]) -> Any:
        if isinstance(effect, Send):
            request = self.build(effect.request)
            response = await self.client.send(request, stream=True)
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise BodyReadError(str(exc), request=request, response=response) from exc
            finally:
                await response.aclose()
            return response
        if isinstance(effect, Open):
            response = await self.client.send(self.build(effect.request, sse=True), stream=True)
            if response.status_code >= 400:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                return _Handle(response)
            handle = _Handle(response, EventSource(response).aiter_sse())
            handles.append(handle)
            return handle
        if isinstance(effect, Next):
            try:
                return await anext(effect.handle.events)
            except StopAsyncIteration:
                return None
        if isinstance(effect, Close):
            await self._close(effect.handle, handles)
            return None
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        if isinstance(effect, Dial | Transmit | Receive):
            return await self._socket(effect, handles)
        raise TypeError(f"unknown effect {effect!r}")

    async def _socket(self, effect: Dial | Transmit | Receive, handles: list[Any]) -> Any:
        ws_lib = websockets_module()
        from websockets.asyncio.client import connect

        closed = ws_lib.exceptions.ConnectionClosed
        if isinstance(effect, Dial):
            url, headers = self.socket_target(effect)
            try:
                ws = await connect(url, additional_headers=headers, open_timeout=10)
            except (OSError, TimeoutError, ws_lib.exceptions.InvalidHandshake) as exc:
                raise _refused(exc) from exc
            handle = _Socket(ws)
            handles.append(handle)
            return handle
        ws = effect.handle.ws
        try:
            if isinstance(effect, Transmit):
                await ws.send(effect.text)
                return None
            frame = await ws.recv()
        except ws_lib.exceptions.ConnectionClosedOK:
            return None
        except closed as exc:
            raise _closed(exc) from exc
        return frame if isinstance(frame, str) else bytes(frame).decode()

    async def _close(self, handle: Any, handles: list[Any]) -> None:
        if handle in handles:
            handles.remove(handle)
        if isinstance(handle, _Socket):
            try:
                await handle.ws.close()
            except Exception:  # already gone: nothing left to release
                pass
            return
        if handle.events is not None:
            await handle.events.aclose()
        await handle.response.aclose()

    async def _drive(self, flow: Flow, result: list[Any]) -> AsyncGenerator[Any, None]:
        step = _Stepper(flow, result)
        try:
            while (effect := step.advance()) is not _DONE:
                if isinstance(effect, Emit):
                    yield effect.value
                    continue
                try:
                    step.value = await self._perform(effect, step.handles)
                except Exception as exc:
                    step.error = exc
        finally:
            flow.close()
            for handle in list(step.handles):
                await self._close(handle, step.handles)

    async def run(self, flow: Flow) -> Any:
        result: list[Any] = []
        steps = self._drive(flow, result)
        try:
            async for _ in steps:
                pass
        finally:
            await steps.aclose()  # also on cancellation: release any open response
        return result[0]

    def iterate(self, flow: Flow) -> AsyncStream[Any]:
        return AsyncStream(self._drive(flow, []))


class AsyncStream(Generic[T]):
    """An async iterator of `T`s that can also be awaited first (`async for x in await stream`).

    The official client's `threads.join_stream` must be awaited, its `runs.stream` must not;
    this serves both spellings.
    """

    def __init__(self, source: AsyncGenerator[T, None]):
        self._source = source

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        return await anext(self._source)

    def __await__(self) -> Generator[Any, None, Self]:
        async def itself() -> Self:
            return self

        return itself().__await__()

    async def aclose(self) -> None:
        await self._source.aclose()


class SyncTransport(_BaseTransport):
    """Runs flows on an `httpx.Client`: `run` returns the value, `iterate` a plain iterator."""

    client: httpx.Client

    def _perform(self, effect: Any, handles: list[Any]) -> Any:
        if isinstance(effect, Send):
            request = self.build(effect.request)
            response = self.client.send(request, stream=True)
            try:
                response.read()
            except httpx.HTTPError as exc:
                raise BodyReadError(str(exc), request=request, response=response) from exc
            finally:
                response.close()
            return response
        if isinstance(effect, Open):
            response = self.client.send(self.build(effect.request, sse=True), stream=True)
            if response.status_code >= 400:
                try:
                    response.read()
                finally:
                    response.close()
                return _Handle(response)
            handle = _Handle(response, EventSource(response).iter_sse())
            handles.append(handle)
            return handle
        if isinstance(effect, Next):
            return next(effect.handle.events, None)
        if isinstance(effect, Close):
            self._close(effect.handle, handles)
            return None
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Dial | Transmit | Receive):
            return self._socket(effect, handles)
        raise TypeError(f"unknown effect {effect!r}")

    def _socket(self, effect: Dial | Transmit | Receive, handles: list[Any]) -> Any:
        ws_lib = websockets_module()
        from websockets.sync.client import connect

        closed = ws_lib.exceptions.ConnectionClosed
        if isinstance(effect, Dial):
            url, headers = self.socket_target(effect)
            try:
                # entered at once: the connection is closed by `_close`, not a `with`
                ws = connect(url, additional_headers=headers, open_timeout=10).__enter__()
            except (OSError, TimeoutError, ws_lib.exceptions.InvalidHandshake) as exc:
                raise _refused(exc) from exc
            handle = _Socket(ws)
            handles.append(handle)
            return handle
        ws = effect.handle.ws
        try:
            if isinstance(effect, Transmit):
                ws.send(effect.text)
                return None
            frame = ws.recv()
        except ws_lib.exceptions.ConnectionClosedOK:
            return None
        except closed as exc:
            raise _closed(exc) from exc
        return frame if isinstance(frame, str) else bytes(frame).decode()

    def _close(self, handle: Any, handles: list[Any]) -> None:
        if handle in handles:
            handles.remove(handle)
        if isinstance(handle, _Socket):
            try:
                handle.ws.close()
            except Exception:  # already gone: nothing left to release
                pass
            return
        if handle.events is not None:
            handle.events.close()
        handle.response.close()

    def _drive(self, flow: Flow, result: list[Any]) -> Iterator[Any]:
        step = _Stepper(flow, result)
        try:
            while (effect := step.advance()) is not _DONE:
                if isinstance(effect, Emit):
                    yield effect.value
                    continue
                try:
                    step.value = self._perform(effect, step.handles)
                except Exception as exc:
                    step.error = exc
        finally:
            flow.close()
            for handle in list(step.handles):
                self._close(handle, step.handles)

    def run(self, flow: Flow) -> Any:
        result: list[Any] = []
        for _ in self._drive(flow, result):
            pass
        return result[0]

    def iterate(self, flow: Flow) -> Iterator[Any]:
        return self._drive(flow, [])
