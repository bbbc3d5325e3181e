"""From langgraph's stream chunks to the API's SSE events.

langgraph yields `(namespace, mode, chunk)`; the API names an event `mode` at the root and
`mode|node:task_id|...` inside subgraphs. Two API modes are shaped here rather than
passed through: `messages-tuple` (langgraph's `messages`) and the legacy `messages`,
which announces each message once and then sends it accumulated as it grows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message
from langgraph.types import StreamMode

from graphdock.server import serde

# API stream mode -> the langgraph stream mode that feeds it
PREGEL_MODE: dict[str, StreamMode] = {
    "values": "values",
    "updates": "updates",
    "messages-tuple": "messages",
    "messages": "messages",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
}


def pregel_modes(api_modes: list[str]) -> list[StreamMode]:
    modes: set[StreamMode] = {"values"}  # always: the final values are the wait/join result
    modes.update(PREGEL_MODE[m] for m in api_modes if m in PREGEL_MODE)
    return sorted(modes)


class EventShaper:
    def __init__(self, api_modes: list[str]):
        self.modes = set(api_modes)
        self._seen_messages: dict[str, BaseMessageChunk | BaseMessage] = {}

    def shape(
        self, namespace: tuple[str, ...], mode: str, chunk: Any
    ) -> Iterator[tuple[str, bytes]]:
        suffix = "|" + "|".join(namespace) if namespace else ""
        if mode == "messages":
            yield from self._messages(suffix, chunk)
            return
        if mode in self.modes:
            yield mode + suffix, serde.dumps(chunk)

    def _messages(self, suffix: str, chunk: Any) -> Iterator[tuple[str, bytes]]:
        message, metadata = chunk
        if "messages-tuple" in self.modes:
            yield "messages" + suffix, serde.dumps([message, metadata])
        if "messages" not in self.modes:
            return
        msg_id = getattr(message, "id", None) or ""
        previous = self._seen_messages.get(msg_id)
        if previous is None:
            yield "messages/metadata", serde.dumps({msg_id: {"metadata": metadata}})
        if isinstance(message, BaseMessageChunk):
            merged = previous + message if isinstance(previous, BaseMessageChunk) else message
            self._seen_messages[msg_id] = merged
            yield "messages/partial", serde.dumps([message_chunk_to_message(merged)])
        else:
            self._seen_messages[msg_id] = message
            yield "messages/complete", serde.dumps([message])
