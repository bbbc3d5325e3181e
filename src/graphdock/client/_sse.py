"""Turn decoded server-sent events into the values a stream yields.

Line splitting and field parsing are httpx-sse's; this module only decides what an event means.
"""

from __future__ import annotations

from typing import Any

import orjson
from httpx_sse import ServerSentEvent

from ._types import StreamPart, StreamPartV2

END_EVENTS = frozenset({"end", "error"})


def to_stream_part(sse: ServerSentEvent) -> StreamPart | None:
    """A `StreamPart` for an event with a name or data; `None` for id-only/retry-only blocks."""
    if not sse.data and sse.event == "message":
        return None
    data = orjson.loads(sse.data) if sse.data.strip() else None
    return StreamPart(sse.event, data, sse.id or None)


def to_v2(part: StreamPart) -> StreamPartV2 | None:
    """The `version="v2"` shape: `{"type", "ns", "data", "interrupts"}`; `end` is dropped."""
    if part.event == "end":
        return None
    kind, *ns = part.event.split("|")
    data = part.data
    interrupts: list[Any] = []
    if kind == "values" and isinstance(data, dict) and "__interrupt__" in data:
        data = dict(data)
        interrupts = data.pop("__interrupt__") or []
    return {"type": kind, "ns": ns, "data": data, "interrupts": interrupts}


def namespace(event: str) -> list[str]:
    """Subgraph namespace of an event name: `values|child:1` -> `["child:1"]`."""
    return event.split("|")[1:]
