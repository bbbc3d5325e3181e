"""The v3 thread streaming protocol over HTTP and WebSocket.

* `POST /threads/{thread_id}/commands`: one command in, its success or error response out.
* `POST /threads/{thread_id}/stream/events`: a filtered SSE subscription to the thread's
  events (`channels`, `namespaces`, `depth`, `since`); closing it unsubscribes.
* `GET /threads/{thread_id}/stream/events` upgraded to a WebSocket (the path the official
  SDK dials): commands and `subscription.*` in-band, events pushed on the same socket.

Commands run through the same authorization as the classic routes: starting a run is
`threads.create_run` (+ `assistants.read`), reading is `threads.read`, cancelling is
`threads.update`. A thread the caller cannot see is one that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.responses import Response

from graphdock.server.api.access import declared_access, requires
from graphdock.server.api.caller import Caller, CallerDep, admit
from graphdock.server.api.deps import services, uuid_id
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response
from graphdock.server.api.routes.runs import authorize_run
from graphdock.server.api.routing import api_router
from graphdock.server.api.sse import HEARTBEAT, sse_response
from graphdock.server.ports.bus import ThreadEvent
from graphdock.server.ports.errors import Unavailable
from graphdock.server.services.errors import ServiceError
from graphdock.server.services.protocol import (
    FilterError,
    Subscription,
    method_of,
    parse_cursor,
)
from graphdock.server.services.run_spec import ThreadRunCreate
from graphdock.server.services.thread_stream import COMMANDS, CommandError

log = logging.getLogger("graphdock.api")
router = api_router(tags=["Thread Stream"])

KEEPALIVE_SECONDS = 5.0
# What a command may need: start a run (and read its assistant), read, cancel.
COMMAND_PERMITS = ("threads.create_run", "assistants.read", "threads.read", "threads.update")


# ---------------------------------------------------------------- envelopes
def success(command_id: Any, result: dict, seq: int | None = None) -> dict:
    out: dict[str, Any] = {"type": "success", "id": command_id, "result": result}
    if seq is not None:
        out["meta"] = {"applied_through_seq": seq}
    return out


def failure(command_id: Any, code: str, message: str) -> dict:
    return {"type": "error", "id": command_id, "error": code, "message": message}


def _envelope(body: Any) -> tuple[Any, str, dict]:
    """The command's id, method and params, or a CommandError saying what is wrong."""
    if not isinstance(body, dict):
        raise CommandError("invalid_argument", "A command is a JSON object")
    command_id = body.get("id")
    if not isinstance(command_id, int) or isinstance(command_id, bool) or command_id < 0:
        raise CommandError("invalid_argument", "A command needs an id: a non-negative integer")
    method = body.get("method")
    if not isinstance(method, str):
        raise CommandError("invalid_argument", "A command needs a method")
    params = body.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise CommandError("invalid_argument", f"{method}: params must be an object")
    if method not in COMMANDS:
        raise CommandError("unknown_command", f"Unknown command: {method}")
    return command_id, method, params


def _error_code(exc: Exception) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a failure that is not a CommandError."""
    if isinstance(exc, ApiError):
        code = "permission_denied" if exc.status in (401, 403) else "invalid_argument"
        return code, str(exc.detail), exc.status if exc.status in (401, 403) else 200
    if isinstance(exc, ServiceError):
        code = "permission_denied" if exc.status == 403 else "invalid_argument"
        return code, exc.detail, 403 if exc.status == 403 else 200
    if isinstance(exc, Unavailable):  # nothing was done: the same command may be sent again
        return "unknown_error", exc.detail, 503
    return "unknown_error", f"{type(exc).__name__}: {exc}", 200


# ---------------------------------------------------------------- commands
async def execute(
    conn: HTTPConnection, caller: Caller, thread_id: str, body: Any
) -> tuple[dict, int]:
    """Run one command for the caller; its response and the HTTP status to send it with."""
    command_id = body.get("id") if isinstance(body, dict) else None
    try:
        command_id, method, params = _envelope(body)
        return success(command_id, *await _dispatch(conn, caller, thread_id, method, params)), 200
    except CommandError as exc:
        return failure(command_id, exc.code, exc.message), 200
    except Exception as exc:
        code, message, status = _error_code(exc)
        if isinstance(exc, Unavailable):
            log.warning("command on thread %s: %s", thread_id, exc.detail)
        elif code == "unknown_error":
            log.exception("command %r on thread %s failed", body, thread_id)
        return failure(command_id, code, message), status


async def _dispatch(
    conn: HTTPConnection, caller: Caller, raw_thread_id: str, method: str, params: dict
) -> tuple[dict, int | None]:
    svc = services(conn)  # type: ignore[arg-type]
    stream = svc.thread_stream
    ctx = caller.ctx
    if method.startswith("subscription."):
        raise CommandError(
            "not_supported",
            f"{method} is a WebSocket command; over HTTP, each "
            "POST /threads/{thread_id}/stream/events is a subscription",
        )
    if method == "input.inject":
        raise CommandError("not_supported", "input.inject is not supported: use run.start")
    if method in ("run.start", "input.respond", "state.fork"):
        thread_id = _thread_id(raw_thread_id)
        seq = await stream.applied_through(thread_id)
        if method == "run.start":
            fields = stream.start_fields(params)
            spec, resume = _run_spec(fields)
            await authorize_run(conn, caller, spec, thread_id)  # type: ignore[arg-type]
        elif method == "input.respond":
            fields, interrupts = await stream.respond_fields(thread_id, params)
            spec, resume = _run_spec(fields)
            await authorize_run(conn, caller, spec, thread_id)  # type: ignore[arg-type]
            await stream.check_interrupts(thread_id, interrupts, ctx)
        else:
            fields = stream.fork_fields(params)
            await caller.authorize("threads.read", {"thread_id": thread_id})
            fields["assistant_id"] = await stream.fork_assistant(thread_id, ctx)
            spec, resume = _run_spec(fields)
            await authorize_run(conn, caller, spec, thread_id)  # type: ignore[arg-type]
        run = await svc.runs.create(
            thread_id, spec, ctx, protocol="v3", resume_if_interrupted=resume
        )
        result = {"run_id": run["run_id"]}
        if method == "state.fork":
            result["thread_id"] = thread_id
        return result, seq
    if method == "run.cancel":
        value = {"thread_id": raw_thread_id, "run_id": params.get("run_id"), "action": "interrupt"}
        await caller.authorize("threads.update", value)
        thread_id = _thread_id(raw_thread_id)
        return await stream.cancel(thread_id, params, ctx), None
    await caller.authorize("threads.read", {"thread_id": raw_thread_id})
    thread_id = _thread_id(raw_thread_id)
    if method == "state.get":
        return await stream.state_get(thread_id, params, ctx), None
    if method == "state.listCheckpoints":
        return await stream.list_checkpoints(thread_id, params, ctx), None
    return await stream.tree(thread_id, params, ctx), None  # agent.getTree


def _run_spec(fields: dict) -> tuple[ThreadRunCreate, bool]:
    """A protocol command's run as the classic API would take it, and whether its input
    answers an interrupt the thread waits at."""
    fields = dict(fields)
    fields.pop("protocol", None)
    resume = bool(fields.pop("resume_if_interrupted", False))
    try:
        return ThreadRunCreate.model_validate(fields), resume
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CommandError("invalid_argument", f"Invalid run: {problems}") from None


def _thread_id(value: str) -> str:
    try:
        return uuid_id(value, "thread")
    except ApiError as exc:
        raise CommandError("invalid_argument", str(exc.detail)) from exc


@router.post("/threads/{thread_id}/commands", summary="Send a Thread Protocol Command")
@requires(*COMMAND_PERMITS)
async def command(thread_id: str, request: Request, caller: CallerDep):
    try:
        body = await request.json()
    except ApiError as exc:
        return json_response(failure(None, "invalid_argument", str(exc.detail)), 400)
    response, status = await execute(request, caller, thread_id, body)
    return json_response(response, status)


# ---------------------------------------------------------------- events
def sse_frame(item: ThreadEvent | bytes) -> bytes:
    if isinstance(item, bytes):  # a notice of missed events
        return b"event: error\ndata: " + item + b"\n\n"
    seq = str(item.seq).encode()
    method = method_of(item.channel).encode()
    return b"event: " + method + b"\nid: " + seq + b"\ndata: " + item.framed() + b"\n\n"


async def delivered(
    bus, thread_id: str, subscription: Subscription, since: int, idle: float | None
) -> AsyncIterator[list[ThreadEvent | bytes] | None]:
    """The subscription's events after `since`, batch by batch (None: an idle tick). Where
    the log no longer holds what was asked for, a protocol error frame (`id: null`) says
    how many events were missed first, so the client can resync through `state.get`."""
    expected = since + 1
    async for batch in bus.read_thread_events(thread_id, after=since, idle=idle):
        if not batch:
            yield None
            continue
        out: list[ThreadEvent | bytes] = []
        if batch[0].seq > expected:
            missed = batch[0].seq - expected
            message = f"{missed} event(s) before seq {batch[0].seq} are no longer kept"
            out.append(orjson.dumps(failure(None, "invalid_argument", message)))
        expected = batch[-1].seq + 1
        out.extend(item for item in batch if subscription.matches(item))
        yield out


async def _visible_thread(conn: HTTPConnection, caller: Caller, raw_thread_id: str) -> str:
    await caller.authorize("threads.read", {"thread_id": raw_thread_id})
    thread_id = uuid_id(raw_thread_id, "thread")
    await services(conn).threads.get(thread_id, caller.ctx)  # type: ignore[arg-type]
    return thread_id


def _subscription(params: Any) -> tuple[Subscription, int]:
    if not isinstance(params, dict):
        raise FilterError("the subscription is a JSON object")
    subscription = Subscription.parse(params, allowed=("since",))
    since = parse_cursor(params["since"]) if params.get("since") is not None else 0
    return subscription, since


@router.post("/threads/{thread_id}/stream/events", summary="Subscribe to a Thread's Events")
@requires("threads.read")
async def stream_events(thread_id: str, request: Request, caller: CallerDep):
    try:
        subscription, since = _subscription(await request.json())
    except FilterError as exc:
        raise ApiError(422, f"Invalid subscription: {exc}") from exc
    except ClientDisconnect:  # gone before its subscription arrived (the SDK rotates streams)
        return Response(status_code=204)
    thread_id = await _visible_thread(request, caller, thread_id)
    bus = services(request).bus

    async def frames() -> AsyncIterator[bytes]:
        async for batch in delivered(bus, thread_id, subscription, since, KEEPALIVE_SECONDS):
            if batch is None:
                yield HEARTBEAT
            elif batch:
                yield b"".join(map(sse_frame, batch))

    return sse_response(frames())


# ---------------------------------------------------------------- websocket
@router.websocket("/threads/{thread_id}/stream/events")
@requires(*COMMAND_PERMITS)
async def thread_socket(websocket: WebSocket, thread_id: str):
    """A refused connection is accepted, told why in a protocol error frame and closed
    with 4000 + the HTTP status (4401, 4403, 4404, 4422): what the SDK reads as final, and
    what a browser, which cannot see the status of a refused upgrade, can read too. After
    that, every frame is a command and its response, or an event."""
    try:
        caller = await admit(websocket, declared_access(thread_socket), websocket.app.state.gate)
        thread_id = await _visible_thread(websocket, caller, thread_id)
    except (ApiError, ServiceError) as exc:
        detail = exc.detail if isinstance(exc, ServiceError) else str(exc.detail)
        code = "permission_denied" if exc.status in (401, 403) else "invalid_argument"
        await websocket.accept()
        await websocket.send_text(orjson.dumps(failure(None, code, detail)).decode())
        await websocket.close(code=4000 + exc.status, reason=detail[:120])
        return
    await websocket.accept()
    await _Socket(websocket, caller, thread_id).serve()


class _Socket:
    """One WebSocket connection: its subscriptions, each a task pushing matching events."""

    def __init__(self, websocket: WebSocket, caller: Caller, thread_id: str):
        self.websocket = websocket
        self.caller = caller
        self.thread_id = thread_id
        self.bus = services(websocket).bus  # type: ignore[arg-type]
        self.subscriptions: dict[str, asyncio.Task] = {}
        self.sending = asyncio.Lock()

    async def send(self, payload: bytes) -> None:
        async with self.sending:
            await self.websocket.send_text(payload.decode())

    async def serve(self) -> None:
        try:
            async for text in self.websocket.iter_text():
                try:
                    body = orjson.loads(text)
                except orjson.JSONDecodeError:
                    await self.send(orjson.dumps(failure(None, "invalid_argument", "Invalid JSON")))
                    continue
                await self.send(orjson.dumps(await self.handle(body)))
        except WebSocketDisconnect:
            pass
        finally:
            for task in self.subscriptions.values():
                task.cancel()
            for task in self.subscriptions.values():
                with contextlib.suppress(BaseException):
                    await task

    async def handle(self, body: Any) -> dict:
        method = body.get("method") if isinstance(body, dict) else None
        if method not in (
            "subscription.subscribe",
            "subscription.unsubscribe",
            "subscription.reconnect",
        ):
            response, _ = await execute(self.websocket, self.caller, self.thread_id, body)
            return response
        command_id = body.get("id")
        params = body.get("params") or {}
        try:
            if not isinstance(params, dict):
                raise FilterError("params must be an object")
            if method == "subscription.unsubscribe":
                task = self.subscriptions.pop(str(params.get("subscription_id")), None)
                if task is None:
                    return failure(command_id, "no_such_subscription", "No such subscription")
                task.cancel()
                return success(command_id, {})
            if method == "subscription.reconnect":
                cursor = params.get("last_event_id", params.get("since"))
                params = {
                    k: v
                    for k, v in params.items()
                    if k not in ("last_event_id", "run_id", "subscriptions")
                }
                params["since"] = cursor
                subscription_id = self.subscribe(*_subscription(params))
                return success(command_id, {"restored": True, "subscription_id": subscription_id})
            subscription_id = self.subscribe(*_subscription(params))
            return success(command_id, {"subscription_id": subscription_id})
        except FilterError as exc:
            return failure(command_id, "invalid_argument", f"{method}: {exc}")

    def subscribe(self, subscription: Subscription, since: int) -> str:
        subscription_id = uuid.uuid4().hex
        self.subscriptions[subscription_id] = asyncio.create_task(self.push(subscription, since))
        return subscription_id

    async def push(self, subscription: Subscription, since: int) -> None:
        try:
            async for batch in delivered(self.bus, self.thread_id, subscription, since, None):
                for item in batch or ():
                    await self.send(item if isinstance(item, bytes) else item.framed())
        except (WebSocketDisconnect, RuntimeError):
            pass  # the socket closed under us; serve() is cleaning up
