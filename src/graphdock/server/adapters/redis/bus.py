"""The EventBus on Redis: any process can stream, join or cancel any run.

* Each channel's events are a Redis Stream (`<prefix>events:<channel>`), appended with
  XADD (bounded length). Redis gives the ids (`<ms>-<seq>`, strictly increasing), which
  are our event ids, so `Last-Event-ID` resumes with XREAD from that id in any process.
  Closing a channel appends an end marker and sets the stream to expire after the
  retention period; an open channel's stream expires a day after its last event.
* A subscriber marks the channel as watched (its entry in the sorted set
  `<prefix>watch:<channel>`, scored with an expiry it renews while it listens, removed when
  it leaves) so that `has_channel` sees the channel before its first event, as in the
  memory bus.
* Cancellation: `request_cancel` sets `<prefix>cancel:<run_id>` (so a worker that picks the
  run up later still sees it) and publishes on `<prefix>cancel`; every process listens and
  calls the handlers of the runs it executes.
* A thread's protocol log is the stream `<prefix>tlog:<thread_id>`, its entries given
  explicit ids `<seq>-0` from the counter `<prefix>tseq:<thread_id>`: one Lua script
  numbers and appends a batch in a single round trip, so sequence numbers strictly
  increase per thread whichever process appends, and a reader resumes with XREAD from
  `<since>-0`. Readers mark the thread watched in `<prefix>twatch:<thread_id>`, as for
  run channels. Log and counter expire together, a retention period after the last append.
* Wake-ups: `wake_workers` publishes on `<prefix>wake`; every process's pool wakes at once.
  While Redis is unreachable, pools fall back to polling the database.
* Fencing: a run's events are appended by a script that also keeps, in
  `<prefix>fence:<run_id>`, the highest attempt of the run that published; an older
  attempt's events (a worker stalled past its lease) are refused, atomically with the XADD.
* A worker streams a run's events through an appender (appender.py): batches of them, each
  in one script call that appends to the run's stream and, when the thread's is watched or
  exists, to that too; one batch on the way at a time, the next gathering meanwhile.

Transient Redis errors are retried with exponential back-off by the client; past that, a
call raises `EventBusUnavailable` (the API answers 503). Subscribers ride an outage out:
they keep their position and read on when Redis is back.

Redis here keeps nothing on disk, so a restart loses every stream, cancel key and watch
mark it held. Streams go on after it: event ids are times, so those of events published
after the restart are above any id a client holds, and `Last-Event-ID` resumes with them;
what was only in the lost streams is gone (a finished run's replay then comes from the
database: its final state). On reconnecting, this process re-reads the cancel keys of the
runs it executes, so a cancel sent while its pub/sub was down still reaches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from graphdock.server.adapters.cancel_handlers import CancelHandlers
from graphdock.server.adapters.redis.appender import APPEND_MANY, FENCE_CHECK, RedisAppender
from graphdock.server.adapters.redis.replies import entries, raw, read_entries, text
from graphdock.server.ports.bus import (
    CancelHandler,
    Event,
    PendingEvent,
    ThreadEvent,
    parse_event_id,
)
from graphdock.server.ports.errors import EventBusUnavailable
from graphdock.server.ports.storage import Fence

log = logging.getLogger("graphdock.redis")

OPEN_TTL = 24 * 3600  # an open channel's stream lives a day after its last event
WATCH_TTL = 60  # a subscriber's mark, refreshed while it listens
BLOCK_SECONDS = 5.0  # longest single XREAD BLOCK when no idle ticks are wanted
SOCKET_TIMEOUT = 30.0
BATCH = 1000  # most events read at once
END = b"end"  # the field of the end marker a closed channel's stream ends with
THREAD_LOG_MAXLEN = 100_000  # most protocol events kept per thread

# KEYS: log stream, counter. ARGV: maxlen, ttl, then (channel, namespace, body) triples.
_APPEND_THREAD = """
local n = (#ARGV - 2) / 3
local last = redis.call('INCRBY', KEYS[2], n)
local seq = last - n
for i = 3, #ARGV, 3 do
  seq = seq + 1
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0',
             'c', ARGV[i], 'n', ARGV[i + 1], 'd', ARGV[i + 2])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return last
"""
NS_SEP = "|"  # langgraph's own separator between namespace segments: none contains it

# Append to a stream unless the run's fence says a later attempt has published already.
# KEYS: the stream, the run's fence key (with a fence). ARGV: the attempt (0: no fence), the
# stream's time to live, the fence's, the stream's approximate maximum length, then the
# entry's fields and values.
APPEND = (
    FENCE_CHECK
    + """local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return id
"""
)


@contextlib.contextmanager
def _reachable():
    """Inside, Redis being out of reach (after the client's own retries) comes out as
    EventBusUnavailable."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise EventBusUnavailable(str(exc).strip() or type(exc).__name__) from exc


class RedisEventBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "graphdock:",
        retention_seconds: float = 3600.0,
        maxlen: int = 100_000,
    ):
        self.url = url
        self.prefix = prefix
        self.retention_seconds = max(1, int(retention_seconds))
        self.maxlen = maxlen
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.redis = aioredis.Redis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.02), 8),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            health_check_interval=30,
            socket_connect_timeout=5,
            socket_timeout=SOCKET_TIMEOUT,  # above any XREAD BLOCK we issue
        )
        self._cancel_handlers = CancelHandlers()
        self._work = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._listener: asyncio.Task | None = None
        self._closed = False
        self._append_thread = self.redis.register_script(_APPEND_THREAD)
        self._append = self.redis.register_script(APPEND)
        self._append_many = self.redis.register_script(APPEND_MANY)
        self._wake_failing = False
        self.cancel_topic = f"{prefix}cancel"
        self.wake_topic = f"{prefix}wake"

    # ------------------------------------------------------------------ keys
    def _stream(self, channel: str) -> str:
        return f"{self.prefix}events:{channel}"

    def _watch(self, channel: str) -> str:
        return f"{self.prefix}watch:{channel}"

    def _cancel_key(self, run_id: str) -> str:
        return f"{self.prefix}cancel:{run_id}"

    def _fence(self, run_id: str) -> str:
        return f"{self.prefix}fence:{run_id}"

    # ------------------------------------------------------------------ life
    async def start(self, timeout: float = 10.0) -> None:
        """Check Redis answers, then listen for cancel signals and wake-ups."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.redis.ping()
                break
            except RedisError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cannot reach Redis at {self.url}: {exc}") from exc
                await asyncio.sleep(0.2)
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready), name="graphdock-redis-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 5)

    async def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self, ready: asyncio.Event) -> None:
        delay, lost = 0.1, False
        while not self._closed:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.cancel_topic, self.wake_topic)
                ready.set()
                delay = 0.1
                if lost:
                    log.warning(
                        "Redis pub/sub is back: wake-ups and cancels reach this process again"
                    )
                    lost = False
                    await self._missed_cancels()
                self._work.set()  # work may have been created while we were not listening
                while not self._closed:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is not None:
                        await self._on_message(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not lost:
                    log.warning(
                        "Redis pub/sub lost (%s): idle workers poll the database until it is back",
                        exc,
                    )
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _missed_cancels(self) -> None:
        """Cancels published while this process was not listening: their keys are still set."""
        run_ids = self._cancel_handlers.run_ids()
        if not run_ids:
            return
        actions = await self.redis.mget([self._cancel_key(r) for r in run_ids])
        for run_id, action in zip(run_ids, actions, strict=True):
            if action:
                await self._call_handlers(run_id, text(action))

    async def _on_message(self, message: dict) -> None:
        topic = message["channel"].decode()
        origin, _, rest = message["data"].decode().partition("|")
        if origin == self.origin:
            return  # ours: already handled locally
        if topic == self.wake_topic:
            self._work.set()
        elif topic == self.cancel_topic:
            run_id, _, action = rest.partition("|")
            await self._call_handlers(run_id, action)

    # ------------------------------------------------------------------ events
    async def publish(
        self, channel: str, event: str, data: bytes, *, fence: Fence | None = None
    ) -> str | None:
        fields: list[bytes | str] = [b"e", event, b"d", data]
        event_id = await self._append_entry(channel, fields, OPEN_TTL, fence)
        return event_id.decode() if event_id is not None else None

    async def close_channel(self, channel: str, *, fence: Fence | None = None) -> bool:
        return (
            await self._append_entry(channel, [END, b"1"], self.retention_seconds, fence)
            is not None
        )

    async def _append_entry(
        self, channel: str, fields: list[bytes | str], ttl: int, fence: Fence | None
    ) -> bytes | None:
        """The new entry's id, or None when the fence refused it."""
        keys = [self._stream(channel)]
        if fence is not None:
            keys.append(self._fence(fence.run_id))
        attempt = fence.attempt if fence is not None else 0
        fence_ttl = max(OPEN_TTL, self.retention_seconds)  # outlives the stream it fences
        with _reachable():
            return await self._append(
                keys=keys, args=[attempt, ttl, fence_ttl, self.maxlen, *fields]
            )

    def appender(self, channel: str, *, fence: Fence, mirror: str | None = None) -> RedisAppender:
        """Batches of events in one script call each (adapters/redis/appender.py)."""
        stream = self._stream(channel)
        keys = [stream, self._fence(fence.run_id)]
        keys += [self._stream(mirror), self._watch(mirror)] if mirror else [stream, stream]
        fence_ttl = max(OPEN_TTL, self.retention_seconds)  # outlives the stream it fences
        head = [fence.attempt, OPEN_TTL, fence_ttl, self.maxlen, OPEN_TTL]
        return RedisAppender(self._append_many, keys, head, fence, mirror=mirror is not None)

    async def reopen_channel(self, channel: str) -> None:
        """Drop the end marker (a run handed back goes on writing to its stream)."""
        key = self._stream(channel)
        last = entries(await self.redis.xrevrange(key, count=1))
        if last and END in last[0][1]:
            await self.redis.xdel(key, last[0][0])
            await self.redis.expire(key, OPEN_TTL)

    async def has_channel(self, channel: str) -> bool:
        with _reachable():
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(self._stream(channel))
                pipe.zcount(self._watch(channel), time.time(), "+inf")
                exists, watchers = await pipe.execute()
        return bool(exists or watchers)

    async def _mark_watch(self, watch: str, member: str) -> None:
        """Best effort: while Redis is out of reach the subscriber waits all the same."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zadd(watch, {member: time.time() + WATCH_TTL})
                pipe.expire(watch, WATCH_TTL)
                await pipe.execute()
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("marking a subscriber in Redis failed (%s); it waits all the same", exc)

    async def subscribe(
        self,
        channel: str,
        *,
        after: str | None = None,
        live_only: bool = False,
        idle: float | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Batches of events as they come; an empty batch after `idle` quiet seconds."""
        key, watch, me = self._stream(channel), self._watch(channel), uuid.uuid4().hex
        await self._mark_watch(watch, me)
        try:
            async for batch in self._read(channel, key, watch, me, after, live_only, idle):
                yield batch
        finally:
            with contextlib.suppress(Exception):
                await self.redis.zrem(watch, me)

    async def _read(
        self,
        channel: str,
        key: str,
        watch: str,
        me: str,
        after: str | None,
        live_only: bool,
        idle: float | None,
    ) -> AsyncIterator[list[Event]]:
        watched_at = time.monotonic()
        if live_only:
            try:
                last_entry = entries(await self.redis.xrevrange(key, count=1))
                position = last_entry[0][0] if last_entry else "0-0"
            except (RedisConnectionError, RedisTimeoutError):
                position = f"{int(time.time() * 1000)}-0"  # out of reach: what comes from now on
        else:
            ms, seq = parse_event_id(after)
            position = "0-0" if ms < 0 else f"{ms}-{seq}"
        block = min(idle, SOCKET_TIMEOUT / 2) if idle is not None else BLOCK_SECONDS
        quiet_since = time.monotonic()
        ended = failing = False
        while not self._closed:
            if time.monotonic() - watched_at > WATCH_TTL / 3:
                await self._mark_watch(watch, me)
                watched_at = time.monotonic()
            wait = max(0.001, block - (time.monotonic() - quiet_since))
            try:
                reply = read_entries(
                    await self.redis.xread(
                        {key: position}, count=BATCH, block=max(1, int(wait * 1000))
                    )
                )
                failing = False
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if not failing:  # the subscriber keeps its position and reads on when back
                    log.warning("reading %s from Redis failed (%s); retrying", channel, exc)
                failing = True
                await asyncio.sleep(0.2)
                reply = []
            if not reply:
                if time.monotonic() - quiet_since >= block - 0.001:
                    quiet_since = time.monotonic()
                    if idle is not None:
                        yield []
                continue
            quiet_since = time.monotonic()
            batch: list[Event] = []
            for position, fields in reply:
                if END in fields:
                    ended = True
                    continue
                batch.append(Event(position, text(fields[b"e"]), raw(fields[b"d"])))
            if batch:
                yield batch
            if ended and len(reply) < BATCH:
                # Past the end marker: anything after it was published late; it was read too.
                return

    # ------------------------------------------------------------------ thread logs
    def _thread_keys(self, thread_id: str) -> tuple[str, str, str]:
        p = self.prefix
        return f"{p}tlog:{thread_id}", f"{p}tseq:{thread_id}", f"{p}twatch:{thread_id}"

    async def append_thread_events(self, thread_id: str, events: list[PendingEvent]) -> int:
        log_key, seq_key, _ = self._thread_keys(thread_id)
        if not events:
            return await self.thread_seq(thread_id)
        args: list[bytes | str | int] = [THREAD_LOG_MAXLEN, max(OPEN_TTL, self.retention_seconds)]
        for channel, namespace, body in events:
            args += [channel, NS_SEP.join(namespace), body]
        with _reachable():
            return int(await self._append_thread(keys=[log_key, seq_key], args=args))

    async def thread_seq(self, thread_id: str) -> int:
        with _reachable():
            value = await self.redis.get(self._thread_keys(thread_id)[1])
        return int(value) if value else 0

    async def thread_watched(self, thread_id: str) -> bool:
        watch = self._thread_keys(thread_id)[2]
        with _reachable():
            return bool(await self.redis.zcount(watch, time.time(), "+inf"))

    async def read_thread_events(
        self, thread_id: str, *, after: int = 0, idle: float | None = None
    ) -> AsyncIterator[list[ThreadEvent]]:
        log_key, _, watch = self._thread_keys(thread_id)
        me = uuid.uuid4().hex
        await self._mark_watch(watch, me)
        watched_at = time.monotonic()
        position = f"{max(0, after)}-0"
        block = min(idle, SOCKET_TIMEOUT / 2) if idle is not None else BLOCK_SECONDS
        try:
            while not self._closed:
                if time.monotonic() - watched_at > WATCH_TTL / 3:
                    await self._mark_watch(watch, me)
                    watched_at = time.monotonic()
                try:
                    reply = read_entries(
                        await self.redis.xread(
                            {log_key: position}, count=BATCH, block=max(1, int(block * 1000))
                        )
                    )
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    log.warning(
                        "reading thread %s from Redis failed (%s); retrying", thread_id, exc
                    )
                    await asyncio.sleep(0.2)
                    continue
                if not reply:
                    if idle is not None:
                        yield []
                    continue
                batch: list[ThreadEvent] = []
                for position, fields in reply:
                    ns = text(fields[b"n"])
                    batch.append(
                        ThreadEvent(
                            int(position.partition("-")[0]),
                            text(fields[b"c"]),
                            tuple(ns.split(NS_SEP)) if ns else (),
                            raw(fields[b"d"]),
                        )
                    )
                yield batch
        finally:
            with contextlib.suppress(Exception):
                await self.redis.zrem(watch, me)

    # ------------------------------------------------------------------ cancel
    async def request_cancel(self, run_id: str, action: str) -> None:
        with _reachable():
            await self.redis.set(self._cancel_key(run_id), action, ex=self.retention_seconds)
            await self.redis.publish(self.cancel_topic, f"{self.origin}|{run_id}|{action}")
        await self._call_handlers(run_id, action)

    async def _call_handlers(self, run_id: str, action: str) -> None:
        handlers = self._cancel_handlers.of(run_id)
        for handler in handlers:
            await self._call(run_id, handler, action)
        if handlers:
            self._spawn(self._insist(run_id, action))

    async def _call(self, run_id: str, handler: CancelHandler, action: str) -> None:
        try:
            result = handler(action)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("cancel handler of run %s failed", run_id)

    async def _insist(self, run_id: str, action: str) -> None:
        """Signal again while the run is still registered here: a cancel that lands while the
        run's task is starting up, or inside a driver call that absorbs it, is not lost.
        Handlers are idempotent (they stop the run's graph task if it still runs)."""
        for delay in (0.1, 0.3, 0.6, 1.0, 2.0):
            await asyncio.sleep(delay)
            handlers = self._cancel_handlers.of(run_id)
            if not handlers or self._closed:
                return
            for handler in handlers:
                await self._call(run_id, handler, action)

    def on_cancel(self, run_id: str, handler: CancelHandler) -> Callable[[], None]:
        remove = self._cancel_handlers.add(run_id, handler)

        async def already_cancelled() -> None:
            # A cancel requested before this process took the run: it is waiting in a key.
            with contextlib.suppress(RedisError):
                action = await self.redis.get(self._cancel_key(run_id))
                if action and handler in self._cancel_handlers.of(run_id):
                    await self._call_handlers(run_id, text(action))

        self._spawn(already_cancelled())

        return remove

    # ------------------------------------------------------------------ work
    def wake_workers(self) -> None:
        self._work.set()
        if not self._closed:
            self._spawn(self._publish_wake())

    async def _publish_wake(self) -> None:
        try:
            await self.redis.publish(self.wake_topic, f"{self.origin}|")
            self._wake_failing = False
        except RedisError as exc:
            if not self._wake_failing:  # once per outage, not once per new run
                log.warning("waking workers through Redis failed (%s); they will poll", exc)
            self._wake_failing = True

    async def wait_for_work(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.wait(), timeout)
        self._work.clear()
