"""A run's events to Redis in as few round trips as they allow, without delaying the first.

The worker hands each event over (`put`) and goes on; one write is on the way at a time,
and what is handed over meanwhile goes in the next: a single script call that checks the
run's fence, appends every event to the run's stream (XADD, so ids strictly increase in the
order handed over) and to the thread's stream if that is watched or exists, atomically. A
lone event goes out at once, in a write of its own; a stream of them goes out in batches as
large as the round trip time lets accumulate.

A refused write is refused as a whole (the fence is checked before any XADD), and so is
every write after it. A write that fails for want of Redis keeps its events, in order, for
the next `ready` or `flush`, which raise `EventBusUnavailable` meanwhile: the executor waits
the outage out on them as long as its lease holds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from graphdock.server.ports.bus import REFUSED
from graphdock.server.ports.errors import EventBusUnavailable, StaleAttempt
from graphdock.server.ports.storage import Fence

MAX_WAITING = 2000  # events handed over and not yet written past which `ready` waits
MAX_WAITING_BYTES = 4 << 20
MAX_WRITE = 1000  # most events in one write
FIELDS = 3  # per event in the script's arguments: mirrored flag, event, data

# The fence, first in every script that writes a run's events: refuse (return false) an
# attempt older than one that published already, else record this one as the highest.
# KEYS[2]: the run's fence key; ARGV[1]: the attempt (0: no fence), ARGV[3]: the fence's
# time to live.
FENCE_CHECK = """
local attempt = tonumber(ARGV[1])
if attempt > 0 then
  local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
  if attempt < highest then return false end
  redis.call('SET', KEYS[2], attempt, 'EX', ARGV[3])
end
"""

# Append a batch unless the run's fence says a later attempt has published already; events
# flagged mirrored go to the mirror stream too when it exists or is watched. KEYS: the stream,
# the run's fence key, the mirror stream, the mirror's watch set. ARGV: the attempt, the
# stream's time to live, the fence's, the streams' approximate maximum length, the mirror's
# time to live, the time now ('' without a mirror), then (mirrored, event, data) triples.
APPEND_MANY = (
    FENCE_CHECK
    + """local mirror = ARGV[6] ~= '' and (redis.call('EXISTS', KEYS[3]) == 1
  or redis.call('ZCOUNT', KEYS[4], ARGV[6], '+inf') > 0)
local id
local mirrored = false
for i = 7, #ARGV, 3 do
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[i + 1], 'd', ARGV[i + 2])
  if mirror and ARGV[i] == '1' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[i + 1], 'd', ARGV[i + 2])
    mirrored = true
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if mirrored then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
return id
"""
)


class RedisAppender:
    """One attempt's writer of one channel (ports.bus.Appender); made by RedisEventBus."""

    def __init__(
        self, script: Any, keys: list[str], head: list[Any], fence: Fence, *, mirror: bool
    ):
        self._script = script  # APPEND_MANY, registered
        self._keys = keys
        self._head = head  # the arguments before the time
        self._mirror = mirror
        self._fence = fence
        self._waiting: list[Any] = []  # FIELDS per event
        self._bytes = 0
        self._task: asyncio.Task | None = None
        self._error: Exception | None = None
        self._refused = self._closed = False

    def put(self, event: str, data: bytes, *, mirrored: bool = True) -> None:
        if self._refused or self._closed:
            return
        self._waiting += (b"1" if mirrored else b"0", event, data)
        self._bytes += len(data)
        if self._task is None and self._error is None:
            self._kick()

    def _kick(self) -> None:
        """Start writing what waits, unless a write is on the way already."""
        if self._task is None and self._waiting and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        """Write what is waiting, one write at a time, until nothing is."""
        try:
            while self._waiting and not self._closed:
                batch = self._waiting[: MAX_WRITE * FIELDS]
                now = repr(time.time()) if self._mirror else ""
                try:
                    reply = await self._script(keys=self._keys, args=[*self._head, now, *batch])
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    raise EventBusUnavailable(str(exc).strip() or type(exc).__name__) from exc
                del self._waiting[: len(batch)]
                self._bytes -= sum(len(d) for d in batch[2::FIELDS])
                if reply is None:
                    self._refused = True
                    self._waiting.clear()
                    self._bytes = 0
        except Exception as exc:  # kept, in order, for the next ready/flush to retry
            self._error = exc
        finally:
            self._task = None

    @property
    def blocked(self) -> bool:
        return (
            self._refused
            or self._error is not None
            or (self._task is None and bool(self._waiting) and not self._closed)  # after a failure
            or len(self._waiting) >= MAX_WAITING * FIELDS
            or self._bytes >= MAX_WAITING_BYTES
        )

    def _check(self) -> None:
        if self._refused:
            raise StaleAttempt(self._fence.run_id, self._fence.attempt, REFUSED)
        if self._error is not None:
            error, self._error = self._error, None
            raise error  # the caller waits a while and calls again, which writes again

    async def _written(self) -> None:
        """Wait for the writing to stop: nothing waits any more, or a write failed."""
        self._kick()
        if self._task is not None:
            await asyncio.shield(self._task)

    async def ready(self) -> None:
        self._check()
        self._kick()  # after a failed write, what waits is written again
        while len(self._waiting) >= MAX_WAITING * FIELDS or self._bytes >= MAX_WAITING_BYTES:
            await self._written()
            self._check()

    async def flush(self) -> None:
        self._check()
        while self._waiting and not self._closed:
            await self._written()
            self._check()

    def close(self) -> None:
        self._closed = True
        self._waiting.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None
