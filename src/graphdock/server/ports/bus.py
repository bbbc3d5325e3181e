"""The EventBus port: each run's event log, live subscriptions, cancel signals, worker wake-ups.

A run's events are appended to its log with strictly increasing ids (`<ms>-<seq>`, the
shape Redis streams use), so a client that reconnects with `Last-Event-ID` gets exactly
the events it missed. Logs are kept for a while after the run ends, then dropped.

A worker publishes a run's events with the run's `Fence`: once any attempt of the run has
published, the events of an earlier attempt (a worker stalled past its lease) are refused,
so a stale attempt never adds to a run's stream. A bus that cannot be reached raises
`EventBusUnavailable` (ports.errors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from graphdock.server.ports.storage import Fence


class Event(NamedTuple):
    id: str
    event: str
    data: bytes  # compact JSON


CancelHandler = Callable[[str], Awaitable[None] | None]  # called with the action


def parse_event_id(value: str | None) -> tuple[int, int]:
    """`<ms>-<seq>`, a bare number, or nothing (= before the first event)."""
    if not value:
        return (-1, -1)
    ms, _, seq = value.strip().partition("-")
    try:
        return (int(ms), int(seq or 0))
    except ValueError:
        return (-1, -1)


class EventBus(Protocol):
    async def publish(
        self, channel: str, event: str, data: bytes, *, fence: Fence | None = None
    ) -> str | None:
        """The event's id; None if `fence` is an attempt older than one that published."""
        ...

    async def close_channel(self, channel: str, *, fence: Fence | None = None) -> bool:
        """Closed? Not if `fence` is an attempt older than one that published."""
        ...

    def subscribe(
        self,
        channel: str,
        *,
        after: str | None = None,
        live_only: bool = False,
        idle: float | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Batches of the channel's events after `after` (all without it), live until it
        closes; an empty batch after `idle` seconds without events (for heartbeats)."""
        ...

    async def has_channel(self, channel: str) -> bool: ...

    async def request_cancel(self, run_id: str, action: str) -> None: ...
    def on_cancel(self, run_id: str, handler: CancelHandler) -> Callable[[], None]: ...

    def wake_workers(self) -> None: ...
    async def wait_for_work(self, timeout: float) -> None: ...

    async def close(self) -> None: ...


def run_channel(run_id: str) -> str:
    return f"run:{run_id}"


def thread_channel(thread_id: str) -> str:
    return f"thread:{thread_id}"
