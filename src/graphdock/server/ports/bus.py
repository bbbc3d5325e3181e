"""The EventBus port: each run's event log, each thread's protocol event log, live
subscriptions, cancel signals, worker wake-ups.

A run's events are appended to its log with strictly increasing ids (`<ms>-<seq>`, the
shape Redis streams use), so a client that reconnects with `Last-Event-ID` gets exactly
the events it missed. Logs are kept for a while after the run ends, then dropped.

A thread's log carries the v3 streaming protocol's events of all its runs, numbered
1, 2, 3, ... by the bus itself (the protocol's `seq`), so a subscriber that reconnects
with `since` gets exactly what it missed, from any process, whichever worker ran the run.

A worker publishes a run's events with the run's `Fence`: once any attempt of the run has
published, the events of an earlier attempt (a worker stalled past its lease) are refused,
so a stale attempt never adds to a run's stream. A bus that cannot be reached raises
`EventBusUnavailable` (ports.errors).

A worker streams a run's events through an `Appender`: it hands events over without waiting
for each to be written, and the bus writes them in order, as few writes as it can (a bus
across the network sends what accumulated while its previous write was on the way).
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


class ThreadEvent(NamedTuple):
    """One protocol event of a thread's log. `body` is the event's JSON object without its
    opening brace and envelope (`"method":...,"params":{...}}`): the reader puts the
    envelope with the sequence number in front (`framed`), so the number the bus assigns
    at append time never has to be written into the stored bytes."""

    seq: int
    channel: str  # the subscription channel: "values", "input", "custom:<name>", ...
    namespace: tuple[str, ...]
    body: bytes

    def framed(self) -> bytes:
        seq = str(self.seq).encode()
        return b'{"type":"event","event_id":"' + seq + b'","seq":' + seq + b"," + self.body


# Why an appender's events were refused (StaleAttempt's reason).
REFUSED = "a later attempt of the run publishes its events"

# (channel, namespace, body) of an event not yet appended
PendingEvent = tuple[str, tuple[str, ...], bytes]

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


class Appender(Protocol):
    """One attempt's writer of one channel's events (see `EventBus.appender`), in order.

    `put` only hands an event over. `ready` and `flush` are where the writer hears how the
    writing goes: both raise `EventBusUnavailable` while the bus cannot be reached (nothing
    handed over is lost: calling again goes on where the writing stopped) and `StaleAttempt`
    once the fence refused the events (as a whole: none of a refused write lands)."""

    def put(self, event: str, data: bytes, *, mirrored: bool = True) -> None:
        """Hand an event over; `mirrored`: to the mirror channel too, if it exists then."""
        ...

    @property
    def blocked(self) -> bool:
        """Whether `ready` has anything to do: too much waits to be written, or a write
        failed or was refused (a writer that sees False may skip calling it)."""
        ...

    async def ready(self) -> None:
        """Returns at once unless too much is waiting to be written; then waits for room."""
        ...

    async def flush(self) -> None:
        """Waits until everything handed over is written."""
        ...

    def close(self) -> None:
        """Stop writing; what was not written yet is dropped (the attempt is over)."""
        ...


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

    def appender(self, channel: str, *, fence: Fence, mirror: str | None = None) -> Appender:
        """A writer of `channel`'s events for `fence`'s attempt, each also published on
        `mirror` if that channel exists (`has_channel`) when the event is written."""
        ...

    async def append_thread_events(self, thread_id: str, events: list[PendingEvent]) -> int:
        """Append to the thread's log in one step; returns the last sequence number given."""
        ...

    async def thread_seq(self, thread_id: str) -> int:
        """The sequence number of the thread's last event (0 before the first)."""
        ...

    def read_thread_events(
        self, thread_id: str, *, after: int = 0, idle: float | None = None
    ) -> AsyncIterator[list[ThreadEvent]]:
        """Batches of the thread's events with `seq > after`, then live ones, until the
        reader stops; an empty batch after `idle` quiet seconds. While it reads, the thread
        counts as watched."""
        ...

    async def thread_watched(self, thread_id: str) -> bool:
        """Whether a protocol subscriber is reading the thread's log right now."""
        ...

    async def request_cancel(self, run_id: str, action: str) -> None: ...
    def on_cancel(self, run_id: str, handler: CancelHandler) -> Callable[[], None]: ...

    def wake_workers(self) -> None: ...
    async def wait_for_work(self, timeout: float) -> None: ...

    async def close(self) -> None: ...


def run_channel(run_id: str) -> str:
    return f"run:{run_id}"


def thread_channel(thread_id: str) -> str:
    return f"thread:{thread_id}"


def is_thread_channel(channel: str) -> bool:
    return channel.startswith("thread:")
