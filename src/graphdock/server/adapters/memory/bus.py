"""The EventBus in one process: logs in memory, asyncio events for wake-ups."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from graphdock.server.adapters.cancel_handlers import CancelHandlers
from graphdock.server.ports.bus import CancelHandler, Event, parse_event_id, run_channel
from graphdock.server.ports.storage import Fence


class _Log:
    __slots__ = ("attempt", "changed", "closed", "events", "expires_at", "last")

    def __init__(self) -> None:
        self.events: list[tuple[tuple[int, int], Event]] = []
        self.changed = asyncio.Event()
        self.closed = False
        self.last = (0, -1)
        self.expires_at: float | None = None
        self.attempt = 0  # of a run's log: the highest attempt of the run that published

    def next_id(self) -> tuple[int, int]:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self.last
        self.last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return self.last

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class MemoryEventBus:
    def __init__(self, retention_seconds: float = 3600.0):
        self.retention_seconds = retention_seconds
        self._logs: dict[str, _Log] = {}
        self._closing: deque[tuple[float, str]] = deque()  # (expiry, channel), oldest first
        self._cancel_handlers = CancelHandlers()
        self._work = asyncio.Event()

    def _log(self, channel: str) -> _Log:
        log = self._logs.get(channel)
        if log is None:
            log = self._logs[channel] = _Log()
            self._expire()
        return log

    def _expire(self) -> None:
        """Drop logs whose retention ran out; closing order is expiry order, so look at the front."""
        now = time.monotonic()
        while self._closing and self._closing[0][0] < now:
            _, channel = self._closing.popleft()
            log = self._logs.get(channel)
            if log is not None and log.expires_at is not None and log.expires_at < now:
                del self._logs[channel]

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
        if not self._admits(fence):
            return None
        log = self._log(channel)
        key = log.next_id()
        event_id = f"{key[0]}-{key[1]}"
        log.events.append((key, Event(event_id, event, data)))
        log.notify()
        return event_id

    async def close_channel(self, channel: str, *, fence: Fence | None = None) -> bool:
        if not self._admits(fence):
            return False
        log = self._log(channel)
        log.closed = True
        log.expires_at = time.monotonic() + self.retention_seconds
        self._closing.append((log.expires_at, channel))
        log.notify()
        return True

    async def has_channel(self, channel: str) -> bool:
        return channel in self._logs

    async def subscribe(
        self,
        channel: str,
        *,
        after: str | None = None,
        live_only: bool = False,
        idle: float | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Batches of events as they come; an empty batch after `idle` quiet seconds."""
        log = self._log(channel)
        position = len(log.events) if live_only else _index_after(log, parse_event_id(after))
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
        for log in self._logs.values():
            log.closed = True
            log.notify()


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
