"""From langgraph's stream parts to the v3 protocol's events.

The graph runs with the stream modes the channels need (values, updates, messages,
tools, custom, tasks, checkpoints) and `subgraphs=True`; with langgraph's v2 message
handler on, chat models report their output as content-block events (message-start,
content-block-start/delta/finish, message-finish) and tools as tool-started/finished
events, so most parts only need their envelope. What this module adds:

* lifecycle: `running` when the run starts, `started` the first time a namespace (a
  subgraph) shows itself, its end when its parent's task reports a result, and the root's
  end (`completed`, `failed`, `interrupted`) when the run ends;
* input: one `input.requested` per interrupt, sent when the run has stopped at it;
* messages: the spec's block order (block N finishes before block N+1 starts) and its
  `block-delta` for tool-call arguments; a whole chat-model reply that was not streamed
  is replayed as events; messages a node merely returns are state, not model output;
* checkpoints: the light envelope (id, parent_id, step, source) instead of the state;
* updates: one `{node, values}` per node; custom: the payload a node wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langgraph.types import StreamMode

from graphdock.server import serde
from graphdock.server.ports.bus import PendingEvent
from graphdock.server.services import protocol

try:  # the key langgraph's own v3 streaming sets to get content-block message events
    from langgraph._internal._constants import (
        CONFIG_KEY_STREAM_MESSAGES_V2 as CONFIG_KEY_STREAM_MESSAGES_V2,
    )
except ImportError:  # pragma: no cover - a langgraph that moved it
    CONFIG_KEY_STREAM_MESSAGES_V2 = "__pregel_stream_messages_v2"

# langgraph stream modes the protocol's channels are made from ("tools" is langgraph's
# tool-lifecycle mode, which Pregel.astream handles but its StreamMode literal omits)
PREGEL_MODES: tuple[StreamMode, ...] = (
    "values",
    "updates",
    "messages",
    "tools",  # type: ignore[assignment]
    "custom",
    "tasks",
    "checkpoints",
)
INTERRUPT = "__interrupt__"


class ProtocolTranslator:
    """Turns one run's stream parts into protocol events, in order."""

    def __init__(self, run_id: str, graph_name: str):
        self.run_id = run_id
        self.graph_name = graph_name
        self._open: dict[tuple[str, ...], str] = {}  # namespace -> its graph name
        self._interrupts: set[str] = set()
        # input.requested events wait for the run's end: by then the thread is recorded as
        # interrupted, so an answer (or a state update) sent at once is taken
        self._requests: list[PendingEvent] = []
        self._blocks: dict[str, _MessageBlocks] = {}  # langchain run id -> block state
        # False when the run streams langgraph's v1 message chunks for a classic client:
        # those carry no block boundaries, so the messages channel stays silent
        self.messages = True

    # ------------------------------------------------------------ run
    def started(self) -> list[PendingEvent]:
        return [protocol.lifecycle("running", graph_name=self.graph_name, run_id=self.run_id)]

    def finished(self, status: str, error: str | None = None) -> list[PendingEvent]:
        """The run's end: open subgraphs end with it, then the root. `status` is one of
        completed, failed, interrupted, cancelled."""
        child_status = "failed" if status in ("failed", "cancelled") else status
        events = [
            protocol.lifecycle(child_status, ns, graph_name=name)
            for ns, name in sorted(self._open.items(), key=lambda item: -len(item[0]))
        ]
        self._open.clear()
        if status == "interrupted":
            events[:0] = self._requests
        if status == "cancelled":
            events.append(protocol.cancelled(self.run_id, self.graph_name))
        else:
            events.append(
                protocol.lifecycle(
                    status, graph_name=self.graph_name, error=error, run_id=self.run_id
                )
            )
        return events

    # ------------------------------------------------------------ parts
    def translate(self, namespace: tuple[str, ...], mode: str, chunk: Any) -> list[PendingEvent]:
        events = self._discover(namespace)
        shape = getattr(self, f"_{mode}", None)
        if shape is not None:
            events.extend(shape(namespace, chunk))
        return events

    def _discover(self, namespace: tuple[str, ...]) -> list[PendingEvent]:
        """`started` for each level of a namespace not seen before, outermost first."""
        events = []
        for depth in range(1, len(namespace) + 1):
            ns = namespace[:depth]
            if ns not in self._open:
                name = ns[-1].partition(":")[0]
                self._open[ns] = name
                events.append(protocol.lifecycle("started", ns, graph_name=name))
        return events

    def _values(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        if isinstance(chunk, dict) and INTERRUPT in chunk:
            chunk = {k: v for k, v in chunk.items() if k != INTERRUPT}
            if not chunk:
                return
        yield protocol.event("values", ns, chunk)

    def _updates(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        if not isinstance(chunk, dict):
            return
        for node, values in chunk.items():
            if node == INTERRUPT:
                self._note_interrupts(ns, values)
            else:
                yield protocol.event("updates", ns, {"node": node, "values": values})

    def _note_interrupts(self, ns: tuple[str, ...], interrupts: Any) -> None:
        for item in interrupts or ():
            interrupt_id = getattr(item, "id", None)
            if interrupt_id is None or interrupt_id in self._interrupts:
                continue
            self._interrupts.add(interrupt_id)
            value = getattr(item, "value", None)
            # `payload` is the spec's name; the official SDK reads `value`.
            data = {"interrupt_id": interrupt_id, "payload": value, "value": value}
            self._requests.append(protocol.event("input", ns, data))

    def _custom(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        """A dict the node wrote is the event's data as it stands (`name` picks its
        `custom:<name>` channel, and the SDK yields the dict itself); anything else is
        wrapped as the spec's `payload`."""
        if isinstance(chunk, dict):
            name = chunk.get("name")
            channel = f"custom:{name}" if isinstance(name, str) and name else "custom"
            yield protocol.event(channel, ns, chunk)
        else:
            yield protocol.event("custom", ns, {"payload": chunk})

    def _tasks(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        yield protocol.event("tasks", ns, chunk)
        if isinstance(chunk, dict) and "result" in chunk:
            yield from self._ended(ns, chunk)

    def _ended(self, ns: tuple[str, ...], result: dict) -> Iterator[PendingEvent]:
        """A task's result ends the subgraph it ran as (the namespace `<name>:<task id>`
        under the task's own), and everything below it."""
        task_id = result.get("id")
        done = [
            child
            for child in self._open
            if len(child) > len(ns)
            and child[: len(ns)] == ns
            and child[len(ns)].partition(":")[2] == task_id
        ]
        if result.get("interrupts"):
            status, error = "interrupted", None
        elif result.get("error"):
            status, error = "failed", str(result["error"])
        else:
            status, error = "completed", None
        for child in sorted(done, key=len, reverse=True):
            name = self._open.pop(child)
            yield protocol.lifecycle(status, child, graph_name=name, error=error)

    def _checkpoints(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        if not isinstance(chunk, dict):
            return
        configurable = (chunk.get("config") or {}).get("configurable") or {}
        parent = ((chunk.get("parent_config") or {}).get("configurable") or {}).get("checkpoint_id")
        metadata = chunk.get("metadata") or {}
        data: dict[str, Any] = {"id": configurable.get("checkpoint_id")}
        if parent:
            data["parent_id"] = parent
        data["step"] = metadata.get("step")
        data["source"] = metadata.get("source")
        yield protocol.event("checkpoints", ns, data)

    def _tools(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        if isinstance(chunk, dict) and "event" in chunk:
            yield protocol.event("tools", ns, chunk)

    def _messages(self, ns: tuple[str, ...], chunk: Any) -> Iterator[PendingEvent]:
        if not self.messages:
            return
        payload, metadata = chunk
        metadata = metadata or {}
        node = metadata.get("langgraph_node")
        if isinstance(payload, dict) and "event" in payload:
            run = str(metadata.get("run_id", ""))
            blocks = self._blocks.get(run)
            if blocks is None or payload.get("event") == "message-start":
                blocks = self._blocks[run] = _MessageBlocks(metadata)
            for data in blocks.feed(payload):
                yield protocol.event("messages", ns, data, node=node)
            if payload.get("event") in ("message-finish", "error"):
                self._blocks.pop(run, None)
        elif _is_unstreamed_reply(payload, metadata):
            from langchain_core.language_models._compat_bridge import message_to_events

            blocks = _MessageBlocks(metadata)
            for part in message_to_events(payload, message_id=payload.id):
                for data in blocks.feed(dict(part)):
                    yield protocol.event("messages", ns, data, node=node)


def _is_unstreamed_reply(payload: Any, metadata: dict) -> bool:
    """A chat model's whole reply (it did not stream): its call left model metadata,
    which the messages a node returns as state do not carry."""
    from langchain_core.messages import AIMessage, AIMessageChunk

    return (
        isinstance(payload, AIMessage)
        and not isinstance(payload, AIMessageChunk)
        and metadata.get("ls_model_type") == "chat"
    )


class _MessageBlocks:
    """One message's content blocks, put in the spec's order and shape.

    langchain-core may start block N+1 before it finishes block N (it finishes them all
    at the end) and appends tool-call arguments with `tool-call-delta`. The spec wants
    block N finished before block N+1 starts, and tool-call argument deltas as a
    `block-delta` that shallow-merges onto the block (so `args` is the text so far)."""

    def __init__(self, metadata: dict):
        self.metadata = _message_metadata(metadata)
        self.open: int | None = None
        # keyed by each content block's index, as the events give it (langgraph always does)
        self.blocks: dict[int | None, dict] = {}
        self.finished: set[int | None] = set()

    def feed(self, data: dict) -> Iterator[dict]:
        kind = data.get("event")
        if kind == "message-start":
            message_id = data.get("id") or data.get("message_id")
            data = {k: v for k, v in data.items() if k != "message_id"}
            data["id"] = message_id
            if self.metadata:
                data["metadata"] = {**self.metadata, **(data.get("metadata") or {})}
            yield data
        elif kind == "content-block-start":
            index = data.get("index")
            if self.open is not None and self.open != index:
                yield from self._finish(self.open)
            self.open = index
            self.blocks[index] = dict(data.get("content") or {})
            yield data
        elif kind == "content-block-delta":
            yield self._delta(data)
        elif kind == "content-block-finish":
            index = data.get("index")
            if index in self.finished:
                return
            self.finished.add(index)
            if self.open == index:
                self.open = None
            yield data
        else:  # message-finish, error
            if self.open is not None and kind == "message-finish":
                yield from self._finish(self.open)
            yield data

    def _delta(self, data: dict) -> dict:
        index = data.get("index")
        delta = data.get("delta") or {}
        block = self.blocks.setdefault(index, {})
        kind = delta.get("type")
        if kind == "text-delta":
            block["text"] = block.get("text", "") + (delta.get("text") or "")
        elif kind == "reasoning-delta":
            block["reasoning"] = block.get("reasoning", "") + (delta.get("reasoning") or "")
        elif kind == "tool-call-delta":
            block["args"] = (block.get("args") or "") + (delta.get("args") or "")
            fields = {"type": block.get("type") or "tool_call_chunk", "args": block["args"]}
            return {**data, "delta": {"type": "block-delta", "fields": fields}}
        elif kind == "block-delta":
            block.update(delta.get("fields") or {})
        return data

    def _finish(self, index: int | None) -> Iterator[dict]:
        """Finish a block early, from what its deltas built; its own finish is dropped."""
        self.finished.add(index)
        self.open = None
        content = _finalized(self.blocks.get(index) or {})
        yield {"event": "content-block-finish", "index": index, "content": content}


def _finalized(block: dict) -> dict:
    kind = block.get("type")
    if kind in ("tool_call_chunk", "server_tool_call_chunk"):
        raw = block.get("args") or ""
        try:
            args = serde.loads(raw) if raw else {}
        except ValueError as exc:
            return {
                "type": "invalid_tool_call",
                "id": block.get("id"),
                "name": block.get("name"),
                "args": raw,
                "error": f"arguments are not JSON: {exc}",
            }
        final = "tool_call" if kind == "tool_call_chunk" else "server_tool_call"
        return {"type": final, "id": block.get("id"), "name": block.get("name"), "args": args}
    return dict(block)


def _message_metadata(metadata: dict) -> dict:
    """The concise model metadata the spec allows on message-start: scalars only."""
    out = {}
    for key, source in (
        ("provider", "ls_provider"),
        ("model", "ls_model_name"),
        ("model_type", "ls_model_type"),
        ("run_id", "run_id"),
        ("thread_id", "thread_id"),
        ("langgraph_node", "langgraph_node"),
    ):
        value = metadata.get(source)
        if isinstance(value, (str, int, float, bool)):
            out[key] = value
    return out
