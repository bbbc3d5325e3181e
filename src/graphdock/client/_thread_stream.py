"""`client.threads.stream(...)`: the v3 thread streaming session, async and sync.

Everything the session knows and decides lives in `_protocol.py` (commands, subscriptions,
decoders, the tape every projection reads). The classes here only say how to wait: the
async ones `await` the transport, the sync ones block on it. Each pair is the same
definition in its two spellings, nothing more.

Example:
    async with client.threads.stream(assistant_id="agent") as thread:
        await thread.run.start(input={"messages": [{"role": "user", "content": "hi"}]})
        async for message in thread.messages:
            async for token in message.text:
                print(token, end="")
        print(await thread.output)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._endpoints import Description
from ._protocol import (
    CHANNELS,
    CONTROL,
    INTERLEAVE_FILTERS,
    RESERVED_INTERLEAVE,
    DataDecoder,
    Decoder,
    Event,
    ExtensionDecoder,
    Filter,
    InterleaveDecoder,
    InterruptPayload,
    MessagesDecoder,
    MessageState,
    RawDecoder,
    Reader,
    Session,
    StreamedMessage,
    SubgraphsDecoder,
    SubgraphState,
    SubgraphStatus,
    Tape,
    ToolCallsDecoder,
    ToolCallState,
    TransportKind,
    after,
    exactly,
    output,
    subgraph_filter,
    union,
)
from ._transport import AsyncStream, AsyncTransport, SyncTransport, websockets_module

T = TypeVar("T")


class Pending(Generic[T]):
    """An awaitable that starts its work only when awaited (reading it alone costs nothing)."""

    def __init__(self, start: Callable[[], Coroutine[Any, Any, T]]):
        self._start = start

    def __await__(self) -> Generator[Any, None, T]:
        return self._start().__await__()


def _beyond(
    pieces: list[str], index: int, state: ToolCallState | None = None
) -> Callable[[], bool]:
    """Ready once `pieces` holds more than `index` items (or the tool call is done)."""
    return lambda: index < len(pieces) or (state is not None and state.done)


def _check_transport(session: Session) -> None:
    if session.transport == "websocket":
        websockets_module()  # fail on entering the session, naming the package to install


def _interleave_decoders(
    channels: list[str],
    messages: Callable[[MessageState], Any],
    tool_calls: Callable[[ToolCallState], Any],
    subgraphs: Callable[[SubgraphState], Any],
) -> tuple[Filter, Decoder]:
    """The subscription and the decoder that serve several projections at once."""
    decoders: dict[str, Decoder] = {}
    filters: list[Filter] = []
    for name in channels:
        if name in RESERVED_INTERLEAVE:
            hint = ' (use "tool_calls")' if name == "tools" else ""
            raise ValueError(f"{name!r} is not a projection to interleave{hint}")
        if name in ("values", "updates", "checkpoints", "tasks"):
            decoders[name] = DataDecoder(name)
        elif name == "messages":
            decoders[name] = MessagesDecoder([], messages)
        elif name == "tool_calls":
            decoders[name] = ToolCallsDecoder([], tool_calls)
        elif name == "subgraphs":
            decoders[name] = SubgraphsDecoder((), subgraphs)
        else:  # an extension: custom events of that name
            decoders[name] = ExtensionDecoder(name)
        filters.append(INTERLEAVE_FILTERS.get(name) or {"channels": [f"custom:{name}"]})
    return union(*filters), InterleaveDecoder(decoders)


# ================================================================= async
class _AsyncTape:
    """A subscription of an async session: pulling reads one more event onto its tape."""

    def __init__(self, owner: AsyncThreadStream, subscription: Filter, since: int | None):
        self.owner = owner
        self.tape = Tape(subscription, since)
        flow = owner._session.subscription(union(subscription, CONTROL), since)
        self._source: AsyncStream[Event] = owner._t.iterate(flow)
        self._lock = asyncio.Lock()
        owner._tapes.append(self)

    async def pull(self) -> None:
        seen = len(self.tape.events)
        async with self._lock:
            if len(self.tape.events) != seen or self.tape.ended:
                return  # another consumer pulled meanwhile
            try:
                event = await anext(self._source)
            except StopAsyncIteration:
                self.tape.end()
            except Exception as exc:
                self.tape.end(exc)
            else:
                self.tape.record(event)

    async def until(self, reader: Reader, ready: Callable[[], bool]) -> None:
        for _ in after(reader, ready):
            await self.pull()

    async def aclose(self) -> None:
        with contextlib.suppress(RuntimeError):  # a consumer is reading it right now
            await self._source.aclose()
        self.tape.end(self.tape.error)


class _AsyncItems(Generic[T]):
    """The items a reader decodes, as an async iterator."""

    def __init__(self, tape: _AsyncTape, reader: Reader):
        self._tape, self._reader = tape, reader

    def __aiter__(self) -> _AsyncItems[T]:
        return self

    async def __anext__(self) -> T:
        reader = self._reader
        await self._tape.until(reader, lambda: bool(reader.ready))
        if reader.ready:
            item: T = reader.ready.popleft()
            return item
        if reader.tape.error is not None:
            raise reader.tape.error
        raise StopAsyncIteration


class AsyncTextStream:
    """A message's text (or reasoning) token by token: `async for`, or `await` for all of it."""

    def __init__(self, message: AsyncMessageStream, pieces: list[str]):
        self._message, self._pieces = message, pieces

    async def _iterate(self) -> AsyncIterator[str]:
        index = 0
        while True:
            await self._message._wait(_beyond(self._pieces, index))
            if index >= len(self._pieces):
                return
            index += 1
            yield self._pieces[index - 1]

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    def __await__(self) -> Generator[Any, None, str]:
        async def whole() -> str:
            await self._message._wait(lambda: self._message._state.done)
            return "".join(self._pieces)

        return whole().__await__()


class AsyncMessageStream:
    """One chat-model message as it streams: `text`, `reasoning`, and its `output` when done."""

    def __init__(self, state: MessageState, tape: _AsyncTape, reader: Reader):
        self._state, self._tape, self._reader = state, tape, reader
        self.namespace, self.node, self.message_id = state.namespace, state.node, state.message_id

    async def _wait(self, ready: Callable[[], bool]) -> None:
        await self._tape.until(self._reader, lambda: ready() or self._state.done)

    @property
    def done(self) -> bool:
        return self._state.done

    @property
    def text(self) -> AsyncTextStream:
        return AsyncTextStream(self, self._state.text)

    @property
    def reasoning(self) -> AsyncTextStream:
        return AsyncTextStream(self, self._state.reasoning)

    async def _output(self) -> StreamedMessage:
        await self._wait(lambda: self._state.done)
        if self._state.error is not None:
            raise self._state.error
        return self._state.message

    @property
    def output(self) -> Pending[StreamedMessage]:
        """Awaitable: the whole message (text, content blocks, tool calls, usage)."""
        return Pending(self._output)

    def __await__(self) -> Generator[Any, None, StreamedMessage]:
        return self._output().__await__()


class AsyncToolCall:
    """One tool execution: `name`, `input`, its output `deltas`, and `await output`."""

    def __init__(self, state: ToolCallState, tape: _AsyncTape, reader: Reader):
        self._state, self._tape, self._reader = state, tape, reader
        self.tool_call_id, self.name = state.tool_call_id, state.name
        self.input, self.namespace = state.input, state.namespace

    @property
    def done(self) -> bool:
        return self._state.done

    @property
    def error(self) -> BaseException | None:
        return self._state.error

    async def _deltas(self) -> AsyncIterator[str]:
        index = 0
        pieces = self._state.deltas
        while True:
            await self._tape.until(self._reader, _beyond(pieces, index, self._state))
            if index >= len(pieces):
                return
            index += 1
            yield pieces[index - 1]

    @property
    def deltas(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _output(self) -> Any:
        await self._tape.until(self._reader, lambda: self._state.done)
        if self._state.error is not None:
            raise self._state.error
        return self._state.output

    @property
    def output(self) -> Pending[Any]:
        """Awaitable: the tool's result (its error raised if it failed)."""
        return Pending(self._output)


class _AsyncScope:
    """Projections of one namespace read from an existing tape (a subgraph handle's)."""

    def __init__(self, tape: _AsyncTape, namespace: list[str]):
        self._tape, self._namespace = tape, namespace

    def _items(self, decoder: Callable[[Reader], Decoder]) -> _AsyncItems[Any]:
        reader = Reader(self._tape.tape)
        reader.decoder = decoder(reader)
        return _AsyncItems(self._tape, reader)


class AsyncSubgraphHandle(_AsyncScope):
    """A child graph's invocation: its `status`, and its own `messages`, `tool_calls`,
    `subgraphs`, `values` and `extensions`, scoped to its namespace."""

    def __init__(self, state: SubgraphState, tape: _AsyncTape):
        super().__init__(tape, state.namespace)
        self._state = state
        self.path, self.namespace = state.path, state.namespace
        self.graph_name, self.trigger_call_id = state.graph_name, state.trigger_call_id
        self.extensions = _AsyncExtensions(lambda name: self._extension(name))

    @property
    def status(self) -> SubgraphStatus:
        return self._state.status

    @property
    def error(self) -> str | None:
        return self._state.error

    @property
    def messages(self) -> _AsyncItems[AsyncMessageStream]:
        tape = self._tape
        return self._items(
            lambda r: MessagesDecoder(self.namespace, lambda s: AsyncMessageStream(s, tape, r))
        )

    @property
    def tool_calls(self) -> _AsyncItems[AsyncToolCall]:
        tape = self._tape
        return self._items(
            lambda r: ToolCallsDecoder(self.namespace, lambda s: AsyncToolCall(s, tape, r))
        )

    @property
    def subgraphs(self) -> _AsyncItems[AsyncSubgraphHandle]:
        tape = self._tape
        return self._items(
            lambda r: SubgraphsDecoder(self.path, lambda s: AsyncSubgraphHandle(s, tape))
        )

    subagents = subgraphs

    @property
    def values(self) -> _AsyncItems[dict[str, Any]]:
        return self._items(lambda r: DataDecoder("values", self.namespace))

    def _extension(self, name: str) -> _AsyncItems[dict[str, Any]]:
        return self._items(lambda r: ExtensionDecoder(name, self.namespace))


class _AsyncExtensions:
    """`extensions["name"]`: custom events of that name, as they arrive."""

    def __init__(self, open_one: Callable[[str], Any]):
        self._open = open_one

    def __getitem__(self, name: str) -> _AsyncItems[dict[str, Any]]:
        if not name:
            raise ValueError("extension name must be non-empty")
        items: _AsyncItems[dict[str, Any]] = self._open(name)
        return items


class _AsyncProjection(Generic[T]):
    """A projection of the session: each `async for` reads a subscription of its own."""

    def __init__(self, owner: AsyncThreadStream, opener: Callable[[], _AsyncItems[T]]):
        self._owner, self._opener = owner, opener

    def __aiter__(self) -> _AsyncItems[T]:
        self._owner._require_open()
        return self._opener()


class AsyncValues(_AsyncProjection[dict[str, Any]]):
    """`async for state in thread.values` (each new state), or `await thread.values` (the last)."""

    def __await__(self) -> Generator[Any, None, Any]:
        return self._owner.output.__await__()


class AsyncOutput:
    """`await thread.output`: the thread's values once the run stops (`with_timeout(s)` bounds it)."""

    def __init__(self, owner: AsyncThreadStream, timeout: float | None = None):
        self._owner, self._timeout = owner, timeout

    def with_timeout(self, timeout: float) -> AsyncOutput:
        return AsyncOutput(self._owner, timeout)

    async def _get(self) -> Any:
        self._owner._require_open()
        result = self._owner._t.run(output(self._owner._session))
        return await (asyncio.wait_for(result, self._timeout) if self._timeout else result)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._get().__await__()


class AsyncRunModule:
    """`thread.run`: start a run, answer its interrupt, cancel it."""

    def __init__(self, owner: AsyncThreadStream):
        self._owner = owner

    async def start(
        self,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        langsmith_tracing: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send `run.start`; its result (`{"run_id": ...}`). The thread is created if new."""
        owner = self._owner
        owner._require_open()
        flow = owner._session.start(
            input=input,
            command=command,
            config=config,
            context=context,
            metadata=metadata,
            langsmith_tracer=langsmith_tracing,
        )
        result: dict[str, Any] = await owner._t.run(flow)
        return result

    async def respond(self, response: Any, *, interrupt_id: str | None = None) -> dict[str, Any]:
        """Answer the outstanding interrupt (or the one named) and resume the run."""
        self._owner._require_open()
        result: dict[str, Any] = await self._owner._t.run(
            self._owner._session.respond(response, interrupt_id)
        )
        return result

    async def cancel(
        self, run_id: str | None = None, *, action: str | None = None
    ) -> dict[str, Any]:
        """Cancel the run (default: the thread's active runs); `{"run_ids": [...]}`."""
        self._owner._require_open()
        result: dict[str, Any] = await self._owner._t.run(
            self._owner._session.cancel(run_id, action)
        )
        return result


class AsyncAgentModule:
    """`thread.agent.get_tree()`: the assistant's graph."""

    def __init__(self, owner: AsyncThreadStream):
        self._owner = owner

    async def get_tree(
        self, *, xray: int | bool = False, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        from ._flows import exchange

        session = self._owner._session
        result: dict[str, Any] = await self._owner._t.run(
            exchange(session.tree_request(xray, headers), session.settings)
        )
        return result


class AsyncThreadStream:
    """One thread's v3 streaming session on the async client: use it as `async with`.

    `run.start / respond / cancel` send commands; `values`, `messages`, `tool_calls`,
    `subgraphs`, `extensions[name]`, `subscribe(...)`, `events` and
    `interleave_projections(...)` read the run's events from the start of the current run
    to where it stops; `await output` gives the final values. Over `transport="sse"`
    (default) or `"websocket"`.
    """

    def __init__(self, session: Session, transport: AsyncTransport):
        self._session, self._t = session, transport
        self._tapes: list[_AsyncTape] = []
        self._entered = False
        self.thread_id, self.assistant_id = session.thread_id, session.assistant_id
        self.run = AsyncRunModule(self)
        self.agent = AsyncAgentModule(self)
        self.output = AsyncOutput(self)
        self.values = AsyncValues(self, lambda: self._read(exactly(["values"], []), _values))
        self.messages: _AsyncProjection[AsyncMessageStream] = _AsyncProjection(
            self,
            lambda: self._read(
                exactly(["messages"], []),
                lambda t, r: MessagesDecoder([], lambda s: AsyncMessageStream(s, t, r)),
            ),
        )
        self.tool_calls: _AsyncProjection[AsyncToolCall] = _AsyncProjection(
            self,
            lambda: self._read(
                exactly(["tools"], []),
                lambda t, r: ToolCallsDecoder([], lambda s: AsyncToolCall(s, t, r)),
            ),
        )
        self.subgraphs: _AsyncProjection[AsyncSubgraphHandle] = _AsyncProjection(
            self,
            lambda: self._read(
                subgraph_filter(()),
                lambda t, r: SubgraphsDecoder((), lambda s: AsyncSubgraphHandle(s, t)),
            ),
        )
        self.subagents = self.subgraphs
        self.extensions = _AsyncExtensions(
            lambda name: self._read(
                {"channels": [f"custom:{name}"]}, lambda t, r: ExtensionDecoder(name)
            )
        )

    # state ------------------------------------------------------------------------
    @property
    def interrupted(self) -> bool:
        """Whether the run stopped at an interrupt this session has seen and not answered."""
        return self._session.interrupted

    @property
    def interrupts(self) -> list[InterruptPayload]:
        return list(self._session.interrupts)

    # reading ----------------------------------------------------------------------
    def _require_open(self) -> None:
        if not self._entered:
            raise RuntimeError("the thread stream is not open: use `async with`")
        if self._session.closed:
            raise RuntimeError("the thread stream is closed")

    def _read(
        self,
        subscription: Filter,
        decoder: Callable[[_AsyncTape, Reader], Decoder],
        since: int | None = None,
    ) -> _AsyncItems[Any]:
        self._require_open()
        tape = _AsyncTape(self, subscription, self._session.cursor if since is None else since)
        reader = Reader(tape.tape)
        reader.decoder = decoder(tape, reader)
        return _AsyncItems(tape, reader)

    def subscribe(
        self,
        channels: list[str],
        *,
        namespaces: list[list[str]] | None = None,
        depth: int | None = None,
        since: int | None = None,
    ) -> AsyncIterator[Event]:
        """The raw events of a filter, from the current run (or after seq `since`)."""
        subscription: Filter = {"channels": list(channels)}
        if namespaces is not None:
            subscription["namespaces"] = namespaces
        if depth is not None:
            subscription["depth"] = depth
        return self._read(subscription, lambda t, r: RawDecoder(subscription), since)

    @property
    def events(self) -> AsyncIterator[Event]:
        """Every event of the current run, on every channel."""
        return self.subscribe(list(CHANNELS))

    def interleave_projections(self, channels: list[str]) -> AsyncIterator[tuple[str, Any]]:
        """`(name, item)` of several projections from one subscription, in arrival order."""
        holder: list[tuple[_AsyncTape, Reader]] = []
        subscription, decoder = _interleave_decoders(
            channels,
            lambda s: AsyncMessageStream(s, *holder[0]),
            lambda s: AsyncToolCall(s, *holder[0]),
            lambda s: AsyncSubgraphHandle(s, holder[0][0]),
        )

        def make(tape: _AsyncTape, reader: Reader) -> Decoder:
            holder.append((tape, reader))
            return decoder

        return self._read(subscription, make)

    # lifetime ---------------------------------------------------------------------
    async def __aenter__(self) -> AsyncThreadStream:
        if self._session.closed:
            raise RuntimeError("the thread stream is closed and cannot be re-entered")
        _check_transport(self._session)
        self._entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every subscription of the session. Idempotent."""
        if self._session.closed:
            return
        self._session.closed = True
        for tape in self._tapes:
            await tape.aclose()


def _values(tape: object, reader: Reader) -> Decoder:
    return DataDecoder("values")


# ================================================================= sync
class _SyncTape:
    """A subscription of a sync session: pulling reads one more event onto its tape."""

    def __init__(self, owner: SyncThreadStream, subscription: Filter, since: int | None):
        self.owner = owner
        self.tape = Tape(subscription, since)
        flow = owner._session.subscription(union(subscription, CONTROL), since)
        self._source: Iterator[Event] = owner._t.iterate(flow)
        self._lock = threading.Lock()
        owner._tapes.append(self)

    def pull(self) -> None:
        seen = len(self.tape.events)
        with self._lock:
            if len(self.tape.events) != seen or self.tape.ended:
                return
            try:
                event = next(self._source)
            except StopIteration:
                self.tape.end()
            except Exception as exc:
                self.tape.end(exc)
            else:
                self.tape.record(event)

    def until(self, reader: Reader, ready: Callable[[], bool]) -> None:
        for _ in after(reader, ready):
            self.pull()

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            with contextlib.suppress(ValueError):  # another thread is reading it right now
                close()
        self.tape.end(self.tape.error)


class _SyncItems(Generic[T]):
    """The items a reader decodes, as an iterator."""

    def __init__(self, tape: _SyncTape, reader: Reader):
        self._tape, self._reader = tape, reader

    def __iter__(self) -> _SyncItems[T]:
        return self

    def __next__(self) -> T:
        reader = self._reader
        self._tape.until(reader, lambda: bool(reader.ready))
        if reader.ready:
            item: T = reader.ready.popleft()
            return item
        if reader.tape.error is not None:
            raise reader.tape.error
        raise StopIteration


class TextStream:
    """A message's text (or reasoning) token by token: iterate it, or `get()` all of it."""

    def __init__(self, message: MessageStream, pieces: list[str]):
        self._message, self._pieces = message, pieces

    def __iter__(self) -> Iterator[str]:
        index = 0
        while True:
            self._message._wait(_beyond(self._pieces, index))
            if index >= len(self._pieces):
                return
            index += 1
            yield self._pieces[index - 1]

    def get(self) -> str:
        self._message._wait(lambda: self._message._state.done)
        return "".join(self._pieces)

    def __str__(self) -> str:
        return self.get()


class MessageStream:
    """One chat-model message as it streams: `text`, `reasoning`, and its `output` when done."""

    def __init__(self, state: MessageState, tape: _SyncTape, reader: Reader):
        self._state, self._tape, self._reader = state, tape, reader
        self.namespace, self.node, self.message_id = state.namespace, state.node, state.message_id

    def _wait(self, ready: Callable[[], bool]) -> None:
        self._tape.until(self._reader, lambda: ready() or self._state.done)

    @property
    def done(self) -> bool:
        return self._state.done

    @property
    def text(self) -> TextStream:
        return TextStream(self, self._state.text)

    @property
    def reasoning(self) -> TextStream:
        return TextStream(self, self._state.reasoning)

    @property
    def output(self) -> StreamedMessage:
        """The whole message (blocks until it is done; its error raised if it failed)."""
        self._wait(lambda: self._state.done)
        if self._state.error is not None:
            raise self._state.error
        return self._state.message


class ToolCall:
    """One tool execution: `name`, `input`, its output `deltas`, and `output` (blocking)."""

    def __init__(self, state: ToolCallState, tape: _SyncTape, reader: Reader):
        self._state, self._tape, self._reader = state, tape, reader
        self.tool_call_id, self.name = state.tool_call_id, state.name
        self.input, self.namespace = state.input, state.namespace

    @property
    def done(self) -> bool:
        return self._state.done

    @property
    def error(self) -> BaseException | None:
        return self._state.error

    @property
    def deltas(self) -> Iterator[str]:
        index = 0
        pieces = self._state.deltas
        while True:
            self._tape.until(self._reader, _beyond(pieces, index, self._state))
            if index >= len(pieces):
                return
            index += 1
            yield pieces[index - 1]

    @property
    def output(self) -> Any:
        self._tape.until(self._reader, lambda: self._state.done)
        if self._state.error is not None:
            raise self._state.error
        return self._state.output


class _SyncScope:
    def __init__(self, tape: _SyncTape, namespace: list[str]):
        self._tape, self._namespace = tape, namespace

    def _items(self, decoder: Callable[[Reader], Decoder]) -> _SyncItems[Any]:
        reader = Reader(self._tape.tape)
        reader.decoder = decoder(reader)
        return _SyncItems(self._tape, reader)


class SubgraphHandle(_SyncScope):
    """A child graph's invocation: its `status`, and its own `messages`, `tool_calls`,
    `subgraphs`, `values` and `extensions`, scoped to its namespace."""

    def __init__(self, state: SubgraphState, tape: _SyncTape):
        super().__init__(tape, state.namespace)
        self._state = state
        self.path, self.namespace = state.path, state.namespace
        self.graph_name, self.trigger_call_id = state.graph_name, state.trigger_call_id
        self.extensions = _SyncExtensions(lambda name: self._extension(name))

    @property
    def status(self) -> SubgraphStatus:
        return self._state.status

    @property
    def error(self) -> str | None:
        return self._state.error

    @property
    def messages(self) -> _SyncItems[MessageStream]:
        tape = self._tape
        return self._items(
            lambda r: MessagesDecoder(self.namespace, lambda s: MessageStream(s, tape, r))
        )

    @property
    def tool_calls(self) -> _SyncItems[ToolCall]:
        tape = self._tape
        return self._items(
            lambda r: ToolCallsDecoder(self.namespace, lambda s: ToolCall(s, tape, r))
        )

    @property
    def subgraphs(self) -> _SyncItems[SubgraphHandle]:
        tape = self._tape
        return self._items(lambda r: SubgraphsDecoder(self.path, lambda s: SubgraphHandle(s, tape)))

    subagents = subgraphs

    @property
    def values(self) -> _SyncItems[dict[str, Any]]:
        return self._items(lambda r: DataDecoder("values", self.namespace))

    def _extension(self, name: str) -> _SyncItems[dict[str, Any]]:
        return self._items(lambda r: ExtensionDecoder(name, self.namespace))


class _SyncExtensions:
    def __init__(self, open_one: Callable[[str], Any]):
        self._open = open_one

    def __getitem__(self, name: str) -> _SyncItems[dict[str, Any]]:
        if not name:
            raise ValueError("extension name must be non-empty")
        items: _SyncItems[dict[str, Any]] = self._open(name)
        return items


class _SyncProjection(Generic[T]):
    def __init__(self, owner: SyncThreadStream, opener: Callable[[], _SyncItems[T]]):
        self._owner, self._opener = owner, opener

    def __iter__(self) -> _SyncItems[T]:
        self._owner._require_open()
        return self._opener()


class SyncValues(_SyncProjection[dict[str, Any]]):
    """`for state in thread.values` (each new state), or `thread.values.get()` (the last)."""

    def get(self) -> Any:
        return self._owner.output


class SyncRunModule:
    """`thread.run`: start a run, answer its interrupt, cancel it."""

    def __init__(self, owner: SyncThreadStream):
        self._owner = owner

    def start(
        self,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        langsmith_tracing: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send `run.start`; its result (`{"run_id": ...}`). The thread is created if new."""
        owner = self._owner
        owner._require_open()
        flow = owner._session.start(
            input=input,
            command=command,
            config=config,
            context=context,
            metadata=metadata,
            langsmith_tracer=langsmith_tracing,
        )
        result: dict[str, Any] = owner._t.run(flow)
        return result

    def respond(self, response: Any, *, interrupt_id: str | None = None) -> dict[str, Any]:
        """Answer the outstanding interrupt (or the one named) and resume the run."""
        self._owner._require_open()
        result: dict[str, Any] = self._owner._t.run(
            self._owner._session.respond(response, interrupt_id)
        )
        return result

    def cancel(self, run_id: str | None = None, *, action: str | None = None) -> dict[str, Any]:
        """Cancel the run (default: the thread's active runs); `{"run_ids": [...]}`."""
        self._owner._require_open()
        result: dict[str, Any] = self._owner._t.run(self._owner._session.cancel(run_id, action))
        return result


class SyncAgentModule:
    def __init__(self, owner: SyncThreadStream):
        self._owner = owner

    def get_tree(
        self, *, xray: int | bool = False, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        from ._flows import exchange

        session = self._owner._session
        result: dict[str, Any] = self._owner._t.run(
            exchange(session.tree_request(xray, headers), session.settings)
        )
        return result


class SyncThreadStream:
    """One thread's v3 streaming session on the sync client: use it as `with`.

    The same session as `AsyncThreadStream`; iterating blocks, and `thread.output` is the
    final values (blocking until the run stops).
    """

    def __init__(self, session: Session, transport: SyncTransport):
        self._session, self._t = session, transport
        self._tapes: list[_SyncTape] = []
        self._entered = False
        self.thread_id, self.assistant_id = session.thread_id, session.assistant_id
        self.run = SyncRunModule(self)
        self.agent = SyncAgentModule(self)
        self.values = SyncValues(self, lambda: self._read(exactly(["values"], []), _values))
        self.messages: _SyncProjection[MessageStream] = _SyncProjection(
            self,
            lambda: self._read(
                exactly(["messages"], []),
                lambda t, r: MessagesDecoder([], lambda s: MessageStream(s, t, r)),
            ),
        )
        self.tool_calls: _SyncProjection[ToolCall] = _SyncProjection(
            self,
            lambda: self._read(
                exactly(["tools"], []),
                lambda t, r: ToolCallsDecoder([], lambda s: ToolCall(s, t, r)),
            ),
        )
        self.subgraphs: _SyncProjection[SubgraphHandle] = _SyncProjection(
            self,
            lambda: self._read(
                subgraph_filter(()),
                lambda t, r: SubgraphsDecoder((), lambda s: SubgraphHandle(s, t)),
            ),
        )
        self.subagents = self.subgraphs
        self.extensions = _SyncExtensions(
            lambda name: self._read(
                {"channels": [f"custom:{name}"]}, lambda t, r: ExtensionDecoder(name)
            )
        )

    @property
    def interrupted(self) -> bool:
        """Whether the run stopped at an interrupt this session has seen and not answered."""
        return self._session.interrupted

    @property
    def interrupts(self) -> list[InterruptPayload]:
        return list(self._session.interrupts)

    @property
    def output(self) -> Any:
        """The thread's values once the run stops (blocking; `RunFailedError` if it failed)."""
        self._require_open()
        return self._t.run(output(self._session))

    def _require_open(self) -> None:
        if not self._entered:
            raise RuntimeError("the thread stream is not open: use `with`")
        if self._session.closed:
            raise RuntimeError("the thread stream is closed")

    def _read(
        self,
        subscription: Filter,
        decoder: Callable[[_SyncTape, Reader], Decoder],
        since: int | None = None,
    ) -> _SyncItems[Any]:
        self._require_open()
        tape = _SyncTape(self, subscription, self._session.cursor if since is None else since)
        reader = Reader(tape.tape)
        reader.decoder = decoder(tape, reader)
        return _SyncItems(tape, reader)

    def subscribe(
        self,
        channels: list[str],
        *,
        namespaces: list[list[str]] | None = None,
        depth: int | None = None,
        since: int | None = None,
    ) -> Iterator[Event]:
        """The raw events of a filter, from the current run (or after seq `since`)."""
        subscription: Filter = {"channels": list(channels)}
        if namespaces is not None:
            subscription["namespaces"] = namespaces
        if depth is not None:
            subscription["depth"] = depth
        return self._read(subscription, lambda t, r: RawDecoder(subscription), since)

    @property
    def events(self) -> Iterator[Event]:
        """Every event of the current run, on every channel."""
        return self.subscribe(list(CHANNELS))

    def interleave_projections(self, channels: list[str]) -> Iterator[tuple[str, Any]]:
        """`(name, item)` of several projections from one subscription, in arrival order."""
        holder: list[tuple[_SyncTape, Reader]] = []
        subscription, decoder = _interleave_decoders(
            channels,
            lambda s: MessageStream(s, *holder[0]),
            lambda s: ToolCall(s, *holder[0]),
            lambda s: SubgraphHandle(s, holder[0][0]),
        )

        def make(tape: _SyncTape, reader: Reader) -> Decoder:
            holder.append((tape, reader))
            return decoder

        return self._read(subscription, make)

    def __enter__(self) -> SyncThreadStream:
        if self._session.closed:
            raise RuntimeError("the thread stream is closed and cannot be re-entered")
        _check_transport(self._session)
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every subscription of the session. Idempotent."""
        if self._session.closed:
            return
        self._session.closed = True
        for tape in self._tapes:
            tape.close()


# ================================================================= the endpoint's description
@dataclass(frozen=True)
class ThreadSession(Description[AsyncThreadStream, SyncThreadStream]):
    """`threads.stream(...)`: a session used as `async with` / `with` on either client."""

    thread_id: str | None
    assistant_id: str
    transport: TransportKind = "sse"
    headers: Mapping[str, str] | None = None
    async_returns = "AsyncThreadStream"
    sync_returns = "SyncThreadStream"

    def __post_init__(self) -> None:
        if self.transport not in ("sse", "websocket"):
            raise ValueError("transport must be 'sse' or 'websocket'")

    def session(self, transport: AsyncTransport | SyncTransport) -> Session:
        return Session(
            thread_id=self.thread_id or str(uuid.uuid4()),
            assistant_id=self.assistant_id,
            explicit_thread_id=self.thread_id is not None,
            transport=self.transport,
            headers=self.headers,
            settings=transport.settings,
        )

    def run_async(self, transport: AsyncTransport) -> AsyncThreadStream:
        return AsyncThreadStream(self.session(transport), transport)

    def run_sync(self, transport: SyncTransport) -> SyncThreadStream:
        return SyncThreadStream(self.session(transport), transport)
