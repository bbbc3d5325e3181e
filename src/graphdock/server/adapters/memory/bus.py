"""The EventBus in one process: logs in memory, asyncio events for wake-ups.

A finished run's log is kept for `retention_seconds` so it can be replayed, and all logs
together are held to `memory_budget` bytes: past it, the logs of the runs that finished
first are dropped first (a live run's never is). Dropping pops the front of the queue of
closed logs, so it costs the same whatever the number of logs. A thread's log (for
`/threads/{id}/stream`) never closes; it joins that queue when its last subscriber leaves,
and leaves it again if one comes back before it is dropped.

The v3 protocol's thread logs (numbered events, `append_thread_events`) count against the
same budget. Once no finished run's log is left to drop, the thread logs nobody reads lose
their events, the least recently used first; each keeps its last sequence number, so that
numbering still only increases when the thread runs again.

A dropped channel is remembered for a while: a client that read the run as running just
before it ended and was dropped gets an ended subscription, not a new empty log that would
never close.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from graphdock.server.adapters.cancel_handlers import CancelHandlers
from graphdock.server.ports.bus import (
    REFUSED,
    CancelHandler,
    Event,
    PendingEvent,
    ThreadEvent,
    is_thread_channel,
    parse_event_id,
    run_channel,
)
from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.storage import Fence

# What one stored event costs beside its data: its id string, the key and Event tuples and
# the list slot (measured on CPython 3.11: about 325 bytes for a small event).
EVENT_OVERHEAD = 320
# The same for a thread log's event beside its body (a ThreadEvent, its seq, the deque slot).
THREAD_EVENT_OVERHEAD = 130
# How long, and how many of, the names of dropped channels are remembered (see above).
FORGET_AFTER_SECONDS = 60.0
MAX_REMEMBERED = 20_000


class _Log:
    __slots__ = (
        "attempt",
        "changed",
        "closed",
        "events",
        "expires_at",
        "last",
        "size",
        "watchers",
    )

    def __init__(self) -> None:
        self.events: list[tuple[tuple[int, int], Event]] = []
        self.changed = asyncio.Event()
        self.closed = False
        self.last = (0, -1)
        self.expires_at: float | None = None
        self.size = 0  # bytes of its events, as counted against the budget
        self.watchers = 0  # subscriptions open on it
        self.attempt = 0  # of a run's log: the highest attempt of the run that published

    @property
    def droppable(self) -> bool:
        """Closed (its run ended), or a thread's log nobody follows (a run's log that is
        still open is only ever queued once it closes)."""
        return self.closed or self.watchers == 0

    def next_id(self) -> tuple[int, int]:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self.last
        self.last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return self.last

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class _ThreadLog:
    """A thread's protocol events, the newest `maxlen` of them, numbered from 1."""

    __slots__ = ("changed", "events", "last_seq", "maxlen", "readers", "size", "touched")

    def __init__(self, maxlen: int) -> None:
        self.events: deque[ThreadEvent] = deque()
        self.maxlen = maxlen
        self.changed = asyncio.Event()
        self.last_seq = 0
        self.readers = 0
        self.size = 0  # bytes of its events, as counted against the budget
        self.touched = time.monotonic()

    def append(self, event: ThreadEvent) -> int:
        """Keeps `event` (and only the newest `maxlen`); the change in bytes held."""
        self.events.append(event)
        grown = _thread_event_size(event)
        while len(self.events) > self.maxlen:
            grown -= _thread_event_size(self.events.popleft())
        self.size += grown
        return grown

    def clear(self) -> int:
        """Forgets every event but not the numbering; the bytes freed."""
        freed, self.size = self.size, 0
        self.events.clear()
        return freed

    def after(self, seq: int) -> list[ThreadEvent]:
        events = self.events
        if not events or events[-1].seq <= seq:
            return []
        start = max(0, seq + 1 - events[0].seq)  # seqs are consecutive within the deque
        return [events[i] for i in range(start, len(events))]


class MemoryEventBus:
    def __init__(
        self,
        retention_seconds: float = 3600.0,
        memory_budget: int | None = None,
        thread_log_maxlen: int = 100_000,
    ):
        self.retention_seconds = retention_seconds
        self.thread_log_maxlen = thread_log_maxlen
        self._thread_logs: dict[str, _ThreadLog] = {}
        self.memory_budget = memory_budget  # bytes of stored events; None: no bound
        self.stored_bytes = 0
        self.dropped_for_memory = 0  # finished runs' logs dropped to stay within the budget
        self._logs: dict[str, _Log] = {}
        # Closed logs, in the order they closed: the order of expiry and of dropping.
        self._closing: deque[tuple[float, str, _Log]] = deque()
        self._dropped: dict[str, float] = {}  # channel -> when it was dropped, oldest first
        self._cancel_handlers = CancelHandlers()
        self._work = asyncio.Event()
        self._closed_all = False

    def stats(self) -> dict[str, int | None]:
        """The figures `/metrics` reports about the logs held in memory."""
        return {
            "stored_bytes": self.stored_bytes,
            "memory_budget_bytes": self.memory_budget,
            "logs": len(self._logs),
            "finished_logs": len(self._closing),
            "thread_logs": len(self._thread_logs),
            "dropped_for_memory": self.dropped_for_memory,
        }

    def _log(self, channel: str) -> _Log:
        log = self._logs.get(channel)
        if log is None:
            log = self._logs[channel] = _Log()
            self._dropped.pop(channel, None)
            self._expire()
        return log

    def _drop(self, channel: str, log: _Log) -> None:
        if self._logs.get(channel) is log:
            del self._logs[channel]
            self.stored_bytes -= log.size
            if not is_thread_channel(channel):  # a thread's stream may always start anew
                self._dropped[channel] = time.monotonic()

    def _expire(self) -> None:
        """Drop logs whose retention ran out; closing order is expiry order, so look at the front."""
        now = time.monotonic()
        while self._closing and self._closing[0][0] < now:
            _, channel, log = self._closing.popleft()
            if log.droppable:
                self._drop(channel, log)
        forget_before = now - FORGET_AFTER_SECONDS
        dropped = self._dropped
        while dropped and (
            len(dropped) > MAX_REMEMBERED or next(iter(dropped.values())) < forget_before
        ):
            del dropped[next(iter(dropped))]

    def _keep_within_budget(self, writing: _ThreadLog | None = None) -> None:
        """Drop the logs of the runs that finished first until the rest fit the budget;
        then empty the thread logs nobody reads, least recently used first (never the one
        being `writing` to: its run is live)."""
        budget = self.memory_budget
        if budget is None:
            return
        while self.stored_bytes > budget and self._closing:
            _, channel, log = self._closing.popleft()
            if self._logs.get(channel) is log and log.droppable:
                self._drop(channel, log)
                self.dropped_for_memory += 1
        self._expire()
        if self.stored_bytes > budget:
            idle = sorted(
                (
                    log
                    for log in self._thread_logs.values()
                    if not log.readers and log.size and log is not writing
                ),
                key=lambda log: log.touched,
            )
            for thread_log in idle:
                if self.stored_bytes <= budget:
                    break
                self.stored_bytes -= thread_log.clear()
                self.dropped_for_memory += 1

    def _admits(self, fence: Fence | None) -> bool:
        """No fence, or an attempt no older than any of its run that published."""
        if fence is None:
            return True
        log = self._log(run_channel(fence.run_id))
        if fence.attempt < log.attempt:
            return False
        log.attempt = fence.attempt
        return True

    async def publish(
        self, channel: str, event: str, data: bytes, *, fence: Fence | None = None
    ) -> str | None:
        return self._publish(channel, event, data, fence)

    def _publish(self, channel: str, event: str, data: bytes, fence: Fence | None) -> str | None:
        if not self._admits(fence):
            return None
        log = self._log(channel)
        key = log.next_id()
        event_id = f"{key[0]}-{key[1]}"
        # A copy of exactly its size: orjson's output keeps the slack of its buffer (about
        # 4 KB for even a few bytes of JSON), which a log held for an hour would pay for.
        data = bytes(memoryview(data))
        log.events.append((key, Event(event_id, event, data)))
        size = sys.getsizeof(data) + EVENT_OVERHEAD
        log.size += size
        self.stored_bytes += size
        if self.memory_budget is not None and self.stored_bytes > self.memory_budget:
            self._keep_within_budget()
        log.notify()
        return event_id

    async def close_channel(self, channel: str, *, fence: Fence | None = None) -> bool:
        if not self._admits(fence):
            return False
        if channel in self._dropped:
            return True  # already closed, and dropped since
        log = self._log(channel)
        if not log.closed:
            log.closed = True
            self._may_drop(channel, log)
        log.notify()
        return True

    def _may_drop(self, channel: str, log: _Log) -> None:
        """Queue `log` for expiry and for dropping, behind those queued before it."""
        log.expires_at = time.monotonic() + self.retention_seconds
        self._closing.append((log.expires_at, channel, log))
        if self.memory_budget is not None and self.stored_bytes > self.memory_budget:
            self._keep_within_budget()

    async def has_channel(self, channel: str) -> bool:
        return channel in self._logs

    def appender(self, channel: str, *, fence: Fence, mirror: str | None = None) -> _Appender:
        return _Appender(self, channel, fence, mirror)

    async def subscribe(
        self,
        channel: str,
        *,
        after: str | None = None,
        live_only: bool = False,
        idle: float | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Batches of events as they come; an empty batch after `idle` quiet seconds.
        A channel dropped a moment ago ends at once (its run ended)."""
        if channel not in self._logs and channel in self._dropped:
            return
        log = self._log(channel)
        position = len(log.events) if live_only else _index_after(log, parse_event_id(after))
        log.watchers += 1
        try:
            while True:
                waiter = log.changed
                if position < len(log.events):
                    batch = [e for _, e in log.events[position:]]
                    position += len(batch)
                    yield batch
                    continue
                if log.closed:
                    return
                if idle is None:
                    await waiter.wait()
                else:
                    try:
                        await asyncio.wait_for(waiter.wait(), idle)
                    except TimeoutError:
                        yield []
        finally:
            log.watchers -= 1
            if not log.watchers and not log.closed and is_thread_channel(channel):
                self._may_drop(channel, log)

    # ------------------------------------------------------------------ thread logs
    def _thread_log(self, thread_id: str) -> _ThreadLog:
        log = self._thread_logs.get(thread_id)
        if log is None:
            self._expire_thread_logs()
            log = self._thread_logs[thread_id] = _ThreadLog(self.thread_log_maxlen)
        log.touched = time.monotonic()
        return log

    def _expire_thread_logs(self) -> None:
        """Forget the logs nobody wrote or read for the retention period."""
        cutoff = time.monotonic() - self.retention_seconds
        stale = [
            tid
            for tid, log in self._thread_logs.items()
            if not log.readers and log.touched < cutoff
        ]
        for tid in stale:
            self.stored_bytes -= self._thread_logs.pop(tid).size

    async def append_thread_events(self, thread_id: str, events: list[PendingEvent]) -> int:
        log = self._thread_log(thread_id)
        for channel, namespace, body in events:
            log.last_seq += 1
            self.stored_bytes += log.append(
                ThreadEvent(log.last_seq, channel, namespace, bytes(memoryview(body)))
            )
        if events:
            if self.memory_budget is not None and self.stored_bytes > self.memory_budget:
                self._keep_within_budget(writing=log)
            log.changed.set()
            log.changed = asyncio.Event()
        return log.last_seq

    async def thread_seq(self, thread_id: str) -> int:
        log = self._thread_logs.get(thread_id)
        return log.last_seq if log is not None else 0

    async def thread_watched(self, thread_id: str) -> bool:
        log = self._thread_logs.get(thread_id)
        return log is not None and log.readers > 0

    async def read_thread_events(
        self, thread_id: str, *, after: int = 0, idle: float | None = None
    ) -> AsyncIterator[list[ThreadEvent]]:
        log = self._thread_log(thread_id)
        log.readers += 1
        position = after
        try:
            while not self._closed_all:
                waiter = log.changed
                batch = log.after(position)
                if batch:
                    position = batch[-1].seq
                    yield batch
                    continue
                try:
                    await asyncio.wait_for(waiter.wait(), idle)
                except TimeoutError:
                    yield []
        finally:
            log.readers -= 1
            log.touched = time.monotonic()

    async def request_cancel(self, run_id: str, action: str) -> None:
        for handler in self._cancel_handlers.of(run_id):
            result = handler(action)
            if inspect.isawaitable(result):
                await result

    def on_cancel(self, run_id: str, handler: CancelHandler) -> Callable[[], None]:
        return self._cancel_handlers.add(run_id, handler)

    def wake_workers(self) -> None:
        self._work.set()

    async def wait_for_work(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._work.wait(), timeout)
        except TimeoutError:
            pass
        self._work.clear()

    async def close(self) -> None:
        self._closed_all = True
        for log in self._logs.values():
            log.closed = True
            log.notify()
        for thread_log in self._thread_logs.values():
            thread_log.changed.set()


class _Appender:
    """In one process a write costs no round trip: each event is published as it is handed
    over, and a refusal is told at the next `ready` or `flush`."""

    __slots__ = ("bus", "channel", "closed", "fence", "mirror", "refused")

    def __init__(self, bus: MemoryEventBus, channel: str, fence: Fence, mirror: str | None):
        self.bus, self.channel, self.fence, self.mirror = bus, channel, fence, mirror
        self.refused = self.closed = False

    def put(self, event: str, data: bytes, *, mirrored: bool = True) -> None:
        if self.refused or self.closed:
            return
        bus = self.bus
        if bus._publish(self.channel, event, data, self.fence) is None:
            self.refused = True
        elif mirrored and self.mirror is not None and self.mirror in bus._logs:
            bus._publish(self.mirror, event, data, self.fence)

    @property
    def blocked(self) -> bool:
        return self.refused

    async def ready(self) -> None:
        if self.refused:
            raise StaleAttempt(self.fence.run_id, self.fence.attempt, REFUSED)

    async def flush(self) -> None:
        await self.ready()

    def close(self) -> None:
        self.closed = True


def _index_after(log: _Log, key: tuple[int, int]) -> int:
    events = log.events
    lo, hi = 0, len(events)
    while lo < hi:  # first event with id > key
        mid = (lo + hi) // 2
        if events[mid][0] <= key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _thread_event_size(event: ThreadEvent) -> int:
    return sys.getsizeof(event.body) + THREAD_EVENT_OVERHEAD
