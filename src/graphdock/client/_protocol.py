"""The v3 thread streaming protocol, sans I/O: what `client.threads.stream(...)` sends, reads
and keeps, written once for the async and the sync session (`thread_stream.py`).

A session sends commands (`POST /threads/{id}/commands`) and reads filtered subscriptions
(`POST /threads/{id}/stream/events` as SSE, or the same path as a WebSocket with an in-band
`subscription.subscribe`). Both are flows (generators of the effects in `_wire.py`) that the
client's transports perform, so retries, reconnects with `since` and error mapping exist once.

Every projection (`thread.values`, `thread.messages`, ...) reads its own subscription, which
starts at the session's cursor (the sequence number the last `run.start` / `input.respond`
was applied at) and stops where the run stops (completed, failed or interrupted). What a
subscription delivered is kept on a `Tape`; a projection's `Reader` decodes the tape into
items, and the items it hands out (message streams, tool calls, subgraph handles) pull the
same tape forward when their consumer waits for more, so nothing runs in the background.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypedDict

import httpx
import orjson

from ._errors import APIConnectionError, APIStatusError, LangGraphError, status_error
from ._flows import Flow, exchange
from ._wire import (
    Close,
    Dial,
    Emit,
    Next,
    Open,
    Receive,
    Request,
    Settings,
    Sleep,
    SocketClosed,
    Transmit,
    path,
)

Event = dict[str, Any]
TransportKind = Literal["sse", "websocket"]
SubgraphStatus = Literal["started", "completed", "failed", "interrupted"]

CHANNELS = (
    "values",
    "updates",
    "messages",
    "tools",
    "lifecycle",
    "input",
    "checkpoints",
    "tasks",
    "custom",
)
# Every subscription also carries these, so any projection sees where the run stops and
# which interrupts it asks to be answered.
CONTROL: Filter = {"channels": ["lifecycle", "input"]}
RUN_STOPS = frozenset({"completed", "failed", "interrupted"})
_RETRYABLE_STATUSES = frozenset({408, 429})


class Filter(TypedDict, total=False):
    """A subscription: channel names, namespace prefixes and the depth below them."""

    channels: list[str]
    namespaces: list[list[str]]
    depth: int


class InterruptPayload(TypedDict):
    """An interrupt the run stopped at, to answer with `thread.run.respond(...)`."""

    interrupt_id: str
    value: Any
    namespace: list[str]


class StreamedMessage(TypedDict):
    """A chat model's message as its stream assembled it (`await message_stream.output`)."""

    type: str
    id: str | None
    text: str
    reasoning: str
    content: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    usage_metadata: dict[str, Any] | None
    response_metadata: dict[str, Any]


class ProtocolError(LangGraphError, RuntimeError):
    """The server answered a command (or a subscription) with the protocol's error envelope.

    `code` is the protocol's error code (`invalid_argument`, `no_such_interrupt`, ...).
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"Protocol error [{code}]: {message}")
        self.code, self.message = code, message


class RunFailedError(LangGraphError, RuntimeError):
    """The run ended as failed (or cancelled): `thread.output` raises this."""

    def __init__(self, error: str | None, reason: str | None = None):
        super().__init__(f"Run errored: {error}" if error else "Run errored")
        self.error, self.reason = error, reason


# ---------------------------------------------------------------- events and filters
def params_of(event: Mapping[str, Any]) -> dict[str, Any]:
    params = event.get("params")
    return params if isinstance(params, dict) else {}


def namespace_of(event: Mapping[str, Any]) -> list[str]:
    namespace = params_of(event).get("namespace")
    return list(namespace) if isinstance(namespace, list) else []


def data_of(event: Mapping[str, Any]) -> Any:
    return params_of(event).get("data")


def channel_of(event: Mapping[str, Any]) -> str | None:
    """The channel a subscription names for this event (`input`, `custom:<name>`, ...)."""
    method = event.get("method")
    if method == "input.requested":
        return "input"
    if method == "custom":
        data = data_of(event)
        name = data.get("name") if isinstance(data, dict) else None
        return f"custom:{name}" if isinstance(name, str) and name else "custom"
    return method if method in CHANNELS else None


def _prefix_matches(prefix: Sequence[str], namespace: Sequence[str]) -> bool:
    """A prefix segment without `:` matches any task of that name (`review` ~ `review:<id>`)."""
    if len(prefix) > len(namespace):
        return False
    for want, have in zip(prefix, namespace, strict=False):
        if want != have and (":" in want or have.partition(":")[0] != want):
            return False
    return True


def matches(event: Mapping[str, Any], subscription: Filter) -> bool:
    """Whether `event` is one `subscription` asks for (the server's rule, applied here too)."""
    channel = channel_of(event)
    channels = subscription.get("channels", [])
    if channel is None or (
        channel not in channels and not (channel.startswith("custom:") and "custom" in channels)
    ):
        return False
    namespace = namespace_of(event)
    depth = subscription.get("depth")
    prefixes = subscription.get("namespaces")
    if not prefixes:
        return depth is None or len(namespace) <= depth
    return any(
        _prefix_matches(p, namespace) and (depth is None or len(namespace) - len(p) <= depth)
        for p in prefixes
    )


def union(*filters: Filter) -> Filter:
    """One filter covering all of `filters` (unscoped or unbounded if any of them is)."""
    out: Filter = {"channels": sorted({c for f in filters for c in f.get("channels", [])})}
    scoped = [f for f in filters if "namespaces" in f]
    if len(scoped) == len(filters):
        seen: dict[tuple[str, ...], list[str]] = {}
        for f in filters:
            for ns in f.get("namespaces", []):
                seen.setdefault(tuple(ns), list(ns))
        out["namespaces"] = list(seen.values())
    # a depth counts from each prefix, or from the root when unscoped: mixed, it is dropped
    if all("depth" in f for f in filters) and len(scoped) in (0, len(filters)):
        out["depth"] = max(f.get("depth", 0) for f in filters)
    return out


def exactly(channels: list[str], namespace: Sequence[str]) -> Filter:
    return {"channels": channels, "namespaces": [list(namespace)], "depth": 0}


def is_run_stop(event: Mapping[str, Any]) -> bool:
    """A root lifecycle event after which the run is no longer running."""
    if event.get("method") != "lifecycle" or namespace_of(event):
        return False
    data = data_of(event)
    return isinstance(data, dict) and data.get("event") in RUN_STOPS


def stop_failure(event: Mapping[str, Any] | None) -> RunFailedError | None:
    """The error of a run that stopped as failed (`None` if it completed or is interrupted)."""
    data = data_of(event) if event is not None else None
    if not isinstance(data, dict) or data.get("event") != "failed":
        return None
    error, reason = data.get("error"), data.get("reason")
    return RunFailedError(str(error) if error is not None else None, reason)


# ---------------------------------------------------------------- the session
class Session:
    """One thread's protocol session: ids, cursor and interrupts, shared by both clients.

    Its state may be touched from several threads (the sync client's consumers), so every
    change is made under one lock.
    """

    def __init__(
        self,
        *,
        thread_id: str,
        assistant_id: str,
        explicit_thread_id: bool,
        transport: TransportKind,
        headers: Mapping[str, str] | None,
        settings: Settings,
    ):
        self.thread_id = thread_id
        self.assistant_id = assistant_id
        self.explicit_thread_id = explicit_thread_id
        self.transport = transport
        self.headers = dict(headers or {})
        self.settings = settings
        self.cursor: int | None = None  # where the current run's events begin
        self.seen_seq = 0  # the highest seq any subscription of the session has delivered
        self.run_id: str | None = None
        self.run_started = False
        self.interrupts: list[InterruptPayload] = []
        self.notices: list[str] = []  # the server's word on events it no longer keeps
        self._applied: set[int] = set()
        self._next_id = 1
        self._lock = threading.Lock()
        self.closed = False

    @property
    def interrupted(self) -> bool:
        return bool(self.interrupts)

    # paths -------------------------------------------------------------------------
    @property
    def commands_path(self) -> str:
        return path("/threads/{}/commands", self.thread_id)

    @property
    def events_path(self) -> str:
        return path("/threads/{}/stream/events", self.thread_id)

    def state_request(self) -> Request:
        return Request("GET", path("/threads/{}/state", self.thread_id), headers=self.headers)

    def tree_request(self, xray: int | bool, headers: Mapping[str, str] | None) -> Request:
        return Request(
            "GET",
            path("/assistants/{}/graph", self.assistant_id),
            params={"xray": xray} if xray else None,
            headers={**self.headers, **(headers or {})},
        )

    # what the session learns from events --------------------------------------------
    def observe(self, event: Mapping[str, Any]) -> None:
        """Track interrupts from `input.requested` and root lifecycle events (each once)."""
        method = event.get("method")
        seq = event.get("seq")
        if isinstance(seq, int) and seq > self.seen_seq:
            with self._lock:
                self.seen_seq = max(self.seen_seq, seq)
        if method not in ("input.requested", "lifecycle"):
            return
        with self._lock:
            if isinstance(seq, int):
                if seq in self._applied:
                    return
                self._applied.add(seq)
            data = data_of(event)
            if not isinstance(data, dict):
                return
            if method == "input.requested":
                interrupt_id = data.get("interrupt_id")
                known = {i["interrupt_id"] for i in self.interrupts}
                if isinstance(interrupt_id, str) and interrupt_id not in known:
                    # the spec's field is `payload`; the official SDK reads `value`
                    value = data["value"] if "value" in data else data.get("payload")
                    self.interrupts.append(
                        {
                            "interrupt_id": interrupt_id,
                            "value": value,
                            "namespace": namespace_of(event),
                        }
                    )
            elif not namespace_of(event) and data.get("event") in ("completed", "failed"):
                self.interrupts = []

    def _answered(self, interrupt_id: str) -> None:
        with self._lock:
            self.interrupts = [i for i in self.interrupts if i["interrupt_id"] != interrupt_id]

    # commands ----------------------------------------------------------------------
    def command(self, method: str, params: Mapping[str, Any]) -> Flow:
        """Send one command; its `result`. An error envelope raises `ProtocolError`."""
        if self.closed:
            raise RuntimeError("The thread stream is closed.")
        with self._lock:
            command_id, self._next_id = self._next_id, self._next_id + 1
            seen = self.seen_seq
        body = {"id": command_id, "method": method, "params": dict(params)}
        request = Request(
            "POST", self.commands_path, json=body, headers=self.headers, idempotent=False
        )
        response = yield from exchange(request, self.settings)
        if not isinstance(response, dict):
            return {}
        if response.get("type") == "error":
            raise ProtocolError(str(response.get("error")), str(response.get("message", "")))
        meta = response.get("meta")
        seq = meta.get("applied_through_seq") if isinstance(meta, dict) else None
        result = response.get("result")
        result = result if isinstance(result, dict) else {}
        if method in ("run.start", "input.respond"):
            # The server says where it applied the command; a server whose answer says
            # nothing useful (the reference always sends 0) is covered by what was seen.
            with self._lock:
                self.run_started = True
                self.cursor = max(seq if isinstance(seq, int) else 0, seen)
                if isinstance(result.get("run_id"), str):
                    self.run_id = result["run_id"]
        return result

    def start(self, **fields: Any) -> Flow:
        params = {"assistant_id": self.assistant_id}
        params.update({k: v for k, v in fields.items() if v is not None})
        return self.command("run.start", params)

    def respond(self, response: Any, interrupt_id: str | None) -> Flow:
        """Answer the one outstanding interrupt (or the one named) and resume the run."""
        with self._lock:
            outstanding = list(self.interrupts)
        if interrupt_id is None:
            if len(outstanding) != 1:
                ids = [i["interrupt_id"] for i in outstanding]
                raise RuntimeError(
                    "thread.run.respond: no outstanding interrupt; wait for thread.interrupted"
                    if not outstanding
                    else f"thread.run.respond: {len(ids)} outstanding interrupts ({ids!r}); "
                    "name one with interrupt_id="
                )
            match = outstanding[0]
        else:
            found = [i for i in outstanding if i["interrupt_id"] == interrupt_id]
            if not found:
                raise RuntimeError(
                    f"thread.run.respond: interrupt_id {interrupt_id!r} is not outstanding"
                )
            match = found[0]
        params = {
            "interrupt_id": match["interrupt_id"],
            "namespace": match["namespace"],
            "response": response,
        }
        result = yield from self.command("input.respond", params)
        self._answered(match["interrupt_id"])
        return result

    def cancel(self, run_id: str | None, action: str | None) -> Flow:
        """Cancel the run (or the thread's active runs): `run.cancel`, or, on a server
        without that command, the classic `POST /threads/{id}/runs/{run_id}/cancel`."""
        params = {k: v for k, v in {"run_id": run_id, "action": action}.items() if v}
        try:
            return (yield from self.command("run.cancel", params))
        except ProtocolError as exc:
            target = run_id or self.run_id
            if exc.code != "unknown_command" or target is None:
                raise
        request = Request(
            "POST",
            path("/threads/{}/runs/{}/cancel", self.thread_id, target),
            params={"action": action} if action else None,
            headers=self.headers,
        )
        yield from exchange(request, self.settings)
        return {"run_ids": [target]}

    # subscriptions -----------------------------------------------------------------
    def subscription(self, subscription: Filter, since: int | None) -> Flow:
        """Emit the subscription's events from after `since` until the run stops.

        A dropped connection is reopened with `since` = the last sequence number seen, so
        nothing is missed or repeated; a refusal (4xx) is raised as the API's status error.
        """
        last = since
        attempts = 0
        policy = self.settings.retry
        while True:
            body: dict[str, Any] = dict(subscription)
            if last is not None:
                body["since"] = last
            handle: Any = None
            try:
                handle = yield (
                    Open(Request("POST", self.events_path, json=body, headers=self.headers))
                    if self.transport == "sse"
                    else Dial(self.events_path, self.headers)
                )
                yield from self._subscribe(handle, body)
                while (frame := (yield from self._next_frame(handle))) is not None:
                    seq = frame.get("seq")
                    if isinstance(seq, int):
                        if last is not None and seq <= last:
                            continue  # already delivered before the reconnect
                        last = seq
                    attempts = 0
                    self.observe(frame)
                    yield Emit(frame)
                    if is_run_stop(frame):
                        yield Close(handle)
                        return
                dropped: Exception = APIConnectionError("the event stream ended early", None)
            except (httpx.TransportError, SocketClosed, APIStatusError) as exc:
                if not _reconnectable(exc):
                    raise _final(exc, self.events_path) from exc
                dropped = exc
            if handle is not None:
                yield Close(handle)
            if self.closed:
                return
            if attempts >= policy.max_reconnects:
                raise _final(dropped, self.events_path) from dropped
            yield Sleep(policy.delay(attempts))
            attempts += 1

    def _subscribe(self, handle: Any, body: dict[str, Any]) -> Flow:
        """A refused SSE request raises its status error; a socket gets its subscribe command."""
        if self.transport == "sse":
            if handle.response.status_code >= 400:
                raise status_error(handle.response)
            return
        command = {"id": 1, "method": "subscription.subscribe", "params": body}
        yield Transmit(handle, orjson.dumps(command).decode())

    def _next_frame(self, handle: Any) -> Flow:
        """The next event of a subscription (`None` at its end); other frames are read here."""
        while True:
            if self.transport == "sse":
                sse = yield Next(handle)
                if sse is None:
                    return None
                raw: str = sse.data
            else:
                raw = yield Receive(handle)
                if raw is None:
                    return None
            if not raw.strip():
                continue
            frame = orjson.loads(raw)
            if not isinstance(frame, dict):
                continue
            if frame.get("type") == "error":
                message = str(frame.get("message", ""))
                if frame.get("id") is None:  # a notice (events no longer kept, or a refusal)
                    self.notices.append(message)
                    continue
                raise ProtocolError(str(frame.get("error")), message)
            if "method" in frame:
                return frame
            # a command's success (the WebSocket's subscribe): nothing to hand on


def _reconnectable(exc: Exception) -> bool:
    if isinstance(exc, SocketClosed):
        status = exc.code - 4000
        return not (400 <= status < 500) or status in _RETRYABLE_STATUSES
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500 or exc.status_code in _RETRYABLE_STATUSES
    return True


def _final(exc: Exception, url: str) -> Exception:
    """A WebSocket refusal as the API's status error; a drop as a connection error."""
    if isinstance(exc, SocketClosed) and 4000 <= exc.code < 5000:
        request = httpx.Request("GET", url)
        response = httpx.Response(
            exc.code - 4000, json={"detail": exc.reason or str(exc)}, request=request
        )
        return status_error(response)
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, APIConnectionError):
        return APIConnectionError(str(exc) or type(exc).__name__, None)
    if isinstance(exc, SocketClosed):
        return APIConnectionError(str(exc), None)
    return exc


def drain(flow: Flow, on_emit: Callable[[Any], None]) -> Flow:
    """Run `flow` inside another flow, handing its `Emit`s to `on_emit`; its return value."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        if isinstance(effect, Emit):
            on_emit(effect.value)
            continue
        try:
            value = yield effect
        except Exception as exc:
            error = exc


def output(session: Session) -> Flow:
    """The thread's values once the run stops: raises `RunFailedError` if it failed.

    An interrupted run gives the values it stopped at (`thread.interrupted` is then true).
    Without a run started in this session, a thread that is idle gives its values at once.
    """
    if not session.run_started:
        if not session.explicit_thread_id:
            raise RuntimeError(
                "thread.output: no run has been started on this new thread; call "
                "thread.run.start(...) first"
            )
        state = yield from exchange(session.state_request(), session.settings)
        if not state.get("next") and not state.get("tasks"):
            return state.get("values")
    stops: list[Event] = []
    watch = session.subscription(CONTROL, session.cursor)
    yield from drain(watch, lambda e: stops.append(e) if is_run_stop(e) else None)
    failure = stop_failure(stops[-1] if stops else None)
    if failure is not None:
        raise failure
    state = yield from exchange(session.state_request(), session.settings)
    return state.get("values")


# ---------------------------------------------------------------- tapes and readers
class Tape:
    """What one subscription has delivered so far; every reader of it replays it all."""

    def __init__(self, subscription: Filter, since: int | None):
        self.subscription = subscription
        self.since = since
        self.events: list[Event] = []
        self.ended = False
        self.error: BaseException | None = None
        self.stop: Event | None = None

    def record(self, event: Event) -> None:
        if is_run_stop(event):
            self.stop = event
        self.events.append(event)

    def end(self, error: BaseException | None = None) -> None:
        self.ended, self.error = True, error


class Decoder:
    """Turns a tape's events into a projection's items; `close` settles what is still open."""

    def feed(self, event: Event) -> Iterable[Any]:
        raise NotImplementedError

    def close(self, tape: Tape) -> None:
        return None


class Reader:
    """One consumer's position on a tape, and the items its decoder made but not yet handed out."""

    def __init__(self, tape: Tape, decoder: Decoder | None = None):
        self.tape = tape
        self.decoder = decoder or Decoder()
        self.position = 0
        self.ready: deque[Any] = deque()
        self.closed = False
        self._lock = threading.Lock()

    def step(self) -> bool:
        """Decode the next recorded event; False when the tape has none yet (or is done)."""
        with self._lock:
            if self.position < len(self.tape.events):
                event = self.tape.events[self.position]
                self.position += 1
                self.ready.extend(self.decoder.feed(event))
                return True
            if self.tape.ended and not self.closed:
                self.closed = True
                self.decoder.close(self.tape)
            return False

    @property
    def exhausted(self) -> bool:
        return self.tape.ended and self.position >= len(self.tape.events)


def after(reader: Reader, ready: Callable[[], bool]) -> Iterator[None]:
    """What a facade must do until `ready()`: each `None` asks it to pull the tape once.

    Ends when `ready()` holds or the tape can give nothing more (then `ready()` is final).
    """
    while not ready():
        if reader.step():
            continue
        if reader.exhausted:
            reader.step()  # settles the decoder's open items
            return
        yield None


# ---------------------------------------------------------------- items
class MessageState:
    """One chat-model message assembled from its content-block events."""

    def __init__(self, namespace: list[str], node: str | None, data: Mapping[str, Any]):
        metadata = data.get("metadata")
        self.namespace = namespace
        self.node = node
        self.message_id = data.get("id") if isinstance(data.get("id"), str) else None
        self.role = str(data.get("role") or "ai")
        self.metadata: dict[str, Any] = dict(metadata) if isinstance(metadata, dict) else {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.done = False
        self.error: BaseException | None = None

    def dispatch(self, data: Mapping[str, Any]) -> None:
        kind = data.get("event")
        raw_index = data.get("index")
        index = raw_index if isinstance(raw_index, int) else 0
        if kind == "content-block-start":
            block = dict(data.get("content") or {})
            self.blocks[index] = block
            for field, sink in (("text", self.text), ("reasoning", self.reasoning)):
                if isinstance(block.get(field), str) and block[field]:
                    sink.append(block[field])
        elif kind == "content-block-delta":
            self._delta(self.blocks.setdefault(index, {}), data.get("delta") or {})
        elif kind == "content-block-finish":
            if isinstance(data.get("content"), dict):
                self.blocks[index] = dict(data["content"])
        elif kind == "message-finish":
            self.usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
            self.done = True
        elif kind == "error":
            self.fail(RuntimeError(str(data.get("message") or "the message stream failed")))

    def _delta(self, block: dict[str, Any], delta: Mapping[str, Any]) -> None:
        kind = delta.get("type")
        if kind == "text-delta":
            piece = str(delta.get("text", ""))
            block["text"] = block.get("text", "") + piece
            self.text.append(piece)
        elif kind == "reasoning-delta":
            piece = str(delta.get("reasoning", ""))
            block["reasoning"] = block.get("reasoning", "") + piece
            self.reasoning.append(piece)
        elif kind == "data-delta":
            block["base64"] = block.get("base64", "") + str(delta.get("data", ""))
        elif kind == "block-delta" and isinstance(delta.get("fields"), dict):
            block.update(delta["fields"])

    def fail(self, error: BaseException) -> None:
        if not self.done:
            self.done, self.error = True, error

    @property
    def message(self) -> StreamedMessage:
        content = [self.blocks[i] for i in sorted(self.blocks)]
        calls = [
            {"name": b.get("name"), "args": b.get("args"), "id": b.get("id"), "type": "tool_call"}
            for b in content
            if b.get("type") == "tool_call"
        ]
        return {
            "type": self.role,
            "id": self.message_id,
            "text": "".join(self.text),
            "reasoning": "".join(self.reasoning),
            "content": content,
            "tool_calls": calls,
            "usage_metadata": self.usage,
            "response_metadata": self.metadata,
        }


class ToolCallState:
    """One tool execution: started, its output deltas, then finished or errored."""

    def __init__(self, namespace: list[str], data: Mapping[str, Any]):
        self.namespace = namespace
        self.tool_call_id = str(_tool_call_id(data))
        name = data.get("tool_name", data.get("toolName"))
        self.name = name if isinstance(name, str) else ""
        self.input = data.get("input")
        self.deltas: list[str] = []
        self.done = False
        self.output: Any = None
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        if not self.done:
            self.done, self.error = True, error


def _tool_call_id(data: Mapping[str, Any]) -> Any:
    return data.get("tool_call_id", data.get("toolCallId"))


class SubgraphState:
    """A child graph invocation discovered under a scope; `status` follows its events."""

    def __init__(self, path: tuple[str, ...]):
        self.path = path
        self.namespace = list(path)
        name, sep, task = path[-1].partition(":")
        self.graph_name: str | None = name or None
        self.trigger_call_id: str | None = task if sep else None
        self.status: SubgraphStatus = "started"
        self.error: str | None = None

    def finish(self, status: SubgraphStatus, error: str | None = None) -> None:
        if self.status == "started":
            self.status, self.error = status, error


# ---------------------------------------------------------------- decoders
class RawDecoder(Decoder):
    def __init__(self, subscription: Filter):
        self.subscription = subscription

    def feed(self, event: Event) -> Iterable[Any]:
        if matches(event, self.subscription):
            yield event


class DataDecoder(Decoder):
    """The `data` of one method's events at exactly one namespace (`values`, `updates`, ...)."""

    def __init__(self, method: str, namespace: Sequence[str] = ()):
        self.method, self.namespace = method, list(namespace)

    def feed(self, event: Event) -> Iterable[Any]:
        if event.get("method") == self.method and namespace_of(event) == self.namespace:
            data = data_of(event)
            if data is not None:
                yield data


class ExtensionDecoder(Decoder):
    """Custom events named `name` (`{"name": name, ...}`) at a namespace and below."""

    def __init__(self, name: str, namespace: Sequence[str] = ()):
        if not name:
            raise ValueError("extension name must be non-empty")
        self.name, self.namespace = name, list(namespace)

    def feed(self, event: Event) -> Iterable[Any]:
        data = data_of(event)
        if (
            event.get("method") == "custom"
            and isinstance(data, dict)
            and data.get("name") == self.name
            and _prefix_matches(self.namespace, namespace_of(event))
        ):
            yield data


class MessagesDecoder(Decoder):
    """One message stream per `message-start` at a namespace; later events go to it."""

    def __init__(self, namespace: Sequence[str], make: Callable[[MessageState], Any]):
        self.namespace, self.make = list(namespace), make
        self.active: dict[str, MessageState] = {}

    def feed(self, event: Event) -> Iterable[Any]:
        data = data_of(event)
        if (
            event.get("method") != "messages"
            or namespace_of(event) != self.namespace
            or not isinstance(data, dict)
        ):
            return
        key = str(data.get("id") or data.get("message_id") or "")
        if data.get("event") == "message-start":
            node = params_of(event).get("node")
            raw = data.get("metadata")
            metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
            started = MessageState(self.namespace, node or metadata.get("langgraph_node"), data)
            self.active[key] = started
            yield self.make(started)
            return
        found = self.active.get(key)
        if found is None and len(self.active) == 1:  # later events name no message
            found = next(iter(self.active.values()))
        if found is None:
            return
        state = found
        state.dispatch(data)
        if state.done:
            self.active = {k: s for k, s in self.active.items() if s is not state}

    def close(self, tape: Tape) -> None:
        error = tape.error or stop_failure(tape.stop)
        for state in self.active.values():
            state.fail(error or RuntimeError("the run stopped before the message finished"))


class ToolCallsDecoder(Decoder):
    """One tool call per `tool-started` at a namespace; deltas and the end go to it."""

    def __init__(self, namespace: Sequence[str], make: Callable[[ToolCallState], Any]):
        self.namespace, self.make = list(namespace), make
        self.active: dict[str, ToolCallState] = {}

    def feed(self, event: Event) -> Iterable[Any]:
        data = data_of(event)
        if (
            event.get("method") != "tools"
            or namespace_of(event) != self.namespace
            or not isinstance(data, dict)
            or not isinstance(_tool_call_id(data), str)
        ):
            return
        call_id, kind = _tool_call_id(data), data.get("event")
        if kind == "tool-started":
            state = ToolCallState(self.namespace, data)
            self.active[call_id] = state
            yield self.make(state)
        elif kind == "tool-output-delta" and call_id in self.active:
            self.active[call_id].deltas.append(str(data.get("delta", "")))
        elif kind == "tool-finished" and call_id in self.active:
            state = self.active.pop(call_id)
            state.output, state.done = data.get("output"), True
        elif kind == "tool-error" and call_id in self.active:
            self.active.pop(call_id).fail(RuntimeError(str(data.get("message") or "tool error")))

    def close(self, tape: Tape) -> None:
        error = tape.error or stop_failure(tape.stop)
        for state in self.active.values():
            state.fail(error or RuntimeError("the run stopped before the tool call finished"))
        self.active.clear()


class SubgraphsDecoder(Decoder):
    """Child invocations directly under `scope`, found by their first task or lifecycle event."""

    def __init__(self, scope: tuple[str, ...], make: Callable[[SubgraphState], Any]):
        self.scope, self.make = scope, make
        self.seen: set[tuple[str, ...]] = set()
        self.active: dict[tuple[str, ...], SubgraphState] = {}

    def feed(self, event: Event) -> Iterable[Any]:
        data = data_of(event)
        if not isinstance(data, dict):
            return
        namespace = tuple(namespace_of(event))
        method = event.get("method")
        if method == "tasks" and "result" in data:
            for child in list(self.active.values()):
                if child.path[:-1] == namespace and child.trigger_call_id == data.get("id"):
                    if data.get("interrupts"):
                        child.finish("interrupted")
                    elif data.get("error"):
                        child.finish("failed", str(data["error"]))
                    else:
                        child.finish("completed")
                    del self.active[child.path]
            return
        if method == "lifecycle" and namespace in self.active:
            status = data.get("event")
            if status in ("completed", "failed", "interrupted"):
                error = data.get("error")
                self.active.pop(namespace).finish(status, str(error) if error else None)
                return
        direct = len(namespace) == len(self.scope) + 1 and namespace[:-1] == self.scope
        if direct and namespace not in self.seen and method in ("tasks", "lifecycle"):
            if method == "lifecycle" and data.get("event") != "started":
                return
            self.seen.add(namespace)
            state = SubgraphState(namespace)
            self.active[namespace] = state
            yield self.make(state)

    def close(self, tape: Tape) -> None:
        failed = tape.error is not None or stop_failure(tape.stop) is not None
        for child in self.active.values():
            child.finish("failed" if failed else "completed")
        self.active.clear()


class InterleaveDecoder(Decoder):
    """Several projections from one subscription: `(name, item)` in the order they arrived."""

    def __init__(self, decoders: Mapping[str, Decoder]):
        self.decoders = dict(decoders)

    def feed(self, event: Event) -> Iterable[Any]:
        for name, decoder in self.decoders.items():
            for item in decoder.feed(event):
                yield (name, item)

    def close(self, tape: Tape) -> None:
        for decoder in self.decoders.values():
            decoder.close(tape)


def subgraph_filter(scope: Sequence[str]) -> Filter:
    """What a subgraph projection reads: everything its handles may project, under `scope`."""
    channels = ["messages", "tools", "tasks", "lifecycle", "custom", "values"]
    return {"channels": channels, "namespaces": [list(scope)]} if scope else {"channels": channels}


INTERLEAVE_FILTERS: dict[str, Filter] = {
    "values": exactly(["values"], []),
    "updates": exactly(["updates"], []),
    "checkpoints": exactly(["checkpoints"], []),
    "tasks": exactly(["tasks"], []),
    "messages": exactly(["messages"], []),
    "tool_calls": exactly(["tools"], []),
    "subgraphs": subgraph_filter(()),
}
RESERVED_INTERLEAVE = frozenset({"lifecycle", "tools", "input"})
