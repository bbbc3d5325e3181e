"""The v3 streaming protocol's events and subscription filters, in the domain's terms.

A protocol event is stored as a `PendingEvent` (channel, namespace, body) and numbered by
the bus; `ThreadEvent.framed` gives its wire form. The channel is what a subscription names
(`input` for `input.requested`, `custom:<name>` for a named custom event); the method on
the wire follows from it. Field names are the official SDK's (snake_case), as the
`langchain-protocol` bindings spell them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphdock.server import serde
from graphdock.server.ports.bus import PendingEvent, ThreadEvent

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
CUSTOM_PREFIX = "custom:"
TERMINAL = ("completed", "failed")  # root lifecycle events that end a run for the SDK


def method_of(channel: str) -> str:
    if channel == "input":
        return "input.requested"
    if channel.startswith(CUSTOM_PREFIX):
        return "custom"
    return channel


def now_ms() -> int:
    return int(time.time() * 1000)


def event(
    channel: str,
    namespace: Sequence[str],
    data: Any,
    *,
    node: str | None = None,
    timestamp: int | None = None,
) -> PendingEvent:
    """One event: `params` holds the namespace, the time and the data (plus the node the
    messages and tools channels name)."""
    params: dict[str, Any] = {
        "namespace": list(namespace),
        "timestamp": timestamp if timestamp is not None else now_ms(),
    }
    if node is not None:
        params["node"] = node
    params["data"] = data
    body = b'"method":"' + method_of(channel).encode() + b'","params":' + serde.dumps(params) + b"}"
    return channel, tuple(namespace), body


def lifecycle(
    status: str,
    namespace: Sequence[str] = (),
    *,
    graph_name: str | None = None,
    error: str | None = None,
    run_id: str | None = None,
    **extra: Any,
) -> PendingEvent:
    data: dict[str, Any] = {"event": status}
    if graph_name:
        data["graph_name"] = graph_name
    if error is not None:
        data["error"] = error
    if run_id is not None:
        data["run_id"] = run_id
    data.update(extra)
    return event("lifecycle", namespace, data)


def cancelled(run_id: str, graph_name: str | None = None) -> PendingEvent:
    """The root event of a run that was cancelled: `failed` (one of the two events that
    end a run for the SDK; a cancelled run did not complete), saying why."""
    return lifecycle(
        "failed", graph_name=graph_name, error="Run cancelled", run_id=run_id, reason="cancelled"
    )


# ---------------------------------------------------------------- subscriptions
class FilterError(ValueError):
    """A subscription filter that is not one the protocol allows; the message says why."""


@dataclass(frozen=True)
class Subscription:
    """Which events one subscriber gets: channels, namespace prefixes and depth below them."""

    channels: frozenset[str]
    namespaces: tuple[tuple[str, ...], ...] | None = None
    depth: int | None = None

    @classmethod
    def parse(cls, params: dict[str, Any], *, allowed: Iterable[str] = ()) -> Subscription:
        """From a request's `channels` / `namespaces` / `depth` (other keys in `allowed`
        are the caller's to read); anything else is refused by name."""
        unknown = sorted(set(params) - {"channels", "namespaces", "depth", *allowed})
        if unknown:
            raise FilterError(f"unknown field(s): {', '.join(unknown)}")
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            raise FilterError("channels must be a non-empty list of channel names")
        for channel in channels:
            if not isinstance(channel, str) or not (
                channel in CHANNELS
                or (channel.startswith(CUSTOM_PREFIX) and len(channel) > len(CUSTOM_PREFIX))
            ):
                raise FilterError(
                    f"unknown channel {channel!r}: expected one of {', '.join(CHANNELS)} "
                    "or custom:<name>"
                )
        namespaces = params.get("namespaces")
        if namespaces is not None:
            if not isinstance(namespaces, list) or not all(
                isinstance(ns, list) and all(isinstance(seg, str) for seg in ns)
                for ns in namespaces
            ):
                raise FilterError("namespaces must be a list of namespaces (lists of strings)")
            namespaces = tuple(tuple(ns) for ns in namespaces) or None
        depth = params.get("depth")
        if depth is not None and (
            not isinstance(depth, int) or isinstance(depth, bool) or depth < 0
        ):
            raise FilterError("depth must be a non-negative integer")
        return cls(frozenset(channels), namespaces, depth)

    def matches(self, item: ThreadEvent) -> bool:
        channel = item.channel
        if channel not in self.channels and not (
            channel.startswith(CUSTOM_PREFIX) and "custom" in self.channels
        ):
            return False
        if self.namespaces is None:
            return self.depth is None or len(item.namespace) <= self.depth
        for prefix in self.namespaces:
            if _is_prefix(prefix, item.namespace) and (
                self.depth is None or len(item.namespace) - len(prefix) <= self.depth
            ):
                return True
        return False


def _is_prefix(prefix: tuple[str, ...], namespace: tuple[str, ...]) -> bool:
    """A prefix segment without a `:` matches any task of that name (`agent` matches
    `agent:<task id>`), as the SDK's own matching does."""
    if len(prefix) > len(namespace):
        return False
    for want, have in zip(prefix, namespace, strict=False):
        if want == have:
            continue
        if ":" in want or have.partition(":")[0] != want:
            return False
    return True


def parse_cursor(value: Any, name: str = "since") -> int:
    """A replay cursor: a sequence number (an int, or its decimal string form)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FilterError(f"{name} must be a non-negative integer sequence number")
    return value
