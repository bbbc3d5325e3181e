"""The appender a worker streams a run's events through (ports.bus.Appender), on both buses.

Events handed over without waiting arrive all, in order, with strictly increasing ids; on
Redis the first goes out alone and at once, and the ones handed over while it is on the way
go out together in the next write. A stale attempt's batch is refused as a whole. Events go
to the thread's channel too while that is watched. With Redis away, nothing handed over is
lost: `flush` says the bus is unavailable, and writes everything once Redis is back.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from graphdock.server.executor.lease import Lease
from graphdock.server.ports.bus import parse_event_id, run_channel, thread_channel
from graphdock.server.ports.errors import EventBusUnavailable, StaleAttempt
from tests.support.services import PrivateRedis


def _count_writes(bus) -> list[int]:
    """The number of events in each write the Redis bus's appenders make from now on."""
    sizes: list[int] = []
    script = bus._append_many

    async def counted(*, keys, args):
        sizes.append((len(args) - 6) // 3)  # six arguments, then three per event
        return await script(keys=keys, args=args)

    bus._append_many = counted
    return sizes


async def _read(bus, channel: str) -> list:
    return [e async for batch in bus.subscribe(channel) for e in batch]


async def test_events_handed_over_at_once_arrive_all_in_order_with_increasing_ids(bus):
    run_id = str(uuid.uuid4())
    channel = run_channel(run_id)
    sizes = _count_writes(bus) if hasattr(bus, "_append_many") else None
    appender = bus.appender(channel, fence=Lease(run_id, 1, 60.0))
    appender.put("metadata", b'{"n":0}')
    await asyncio.sleep(0)  # the first write starts, with the first event alone
    n = 2500
    for i in range(1, n):
        appender.put("custom", b'{"n":%d}' % i)
        if appender.blocked:
            await appender.ready()
    await appender.flush()
    assert await bus.close_channel(channel, fence=Lease(run_id, 1, 60.0))

    events = await asyncio.wait_for(_read(bus, channel), 30)
    assert [e.data for e in events] == [b'{"n":%d}' % i for i in range(n)]
    assert [e.event for e in events[:2]] == ["metadata", "custom"]
    ids = [parse_event_id(e.id) for e in events]
    assert all(a < b for a, b in itertools.pairwise(ids)), "ids did not increase"
    if sizes is not None:
        assert sizes[0] == 1, "the first event waited for others"
        assert sum(sizes) == n
        assert len(sizes) < n / 100, f"not batched: {len(sizes)} writes for {n} events"


async def test_a_stale_attempts_batch_is_refused_as_a_whole(bus):
    run_id = str(uuid.uuid4())
    channel = run_channel(run_id)
    first, second = Lease(run_id, 1, 60.0), Lease(run_id, 2, 60.0)
    stale = bus.appender(channel, fence=first)
    stale.put("values", b'{"n":"first"}')
    await stale.flush()
    newer = bus.appender(channel, fence=second)
    newer.put("values", b'{"n":"second"}')
    await newer.flush()
    # The first attempt, stalled and resumed, goes on: a batch of three, then more.
    for i in range(3):
        stale.put("values", b'{"stale":%d}' % i)
    with pytest.raises(StaleAttempt):
        await stale.flush()
    stale.put("values", b'{"stale":"after"}')
    with pytest.raises(StaleAttempt):
        await stale.ready()
    assert stale.blocked
    assert await bus.close_channel(channel, fence=second)
    events = await asyncio.wait_for(_read(bus, channel), 30)
    assert [e.data for e in events] == [b'{"n":"first"}', b'{"n":"second"}']


async def test_events_go_to_the_threads_channel_while_it_is_watched(bus):
    run_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
    channel, thread = run_channel(run_id), thread_channel(thread_id)
    appender = bus.appender(channel, fence=Lease(run_id, 1, 60.0), mirror=thread)
    appender.put("values", b'{"n":"unwatched"}')
    await appender.flush()

    seen: list[bytes] = []
    watching = asyncio.Event()

    async def watch() -> None:
        async for batch in bus.subscribe(thread, live_only=True, idle=0.05):
            watching.set()
            seen.extend(e.data for e in batch)
            if b'{"n":"last"}' in seen:
                return

    watcher = asyncio.create_task(watch())
    await asyncio.wait_for(watching.wait(), 10)
    appender.put("values", b'{"n":"watched"}')
    appender.put("__result__", b'{"n":"run only"}', mirrored=False)
    appender.put("values", b'{"n":"last"}')
    await appender.flush()
    await asyncio.wait_for(watcher, 10)
    assert seen == [b'{"n":"watched"}', b'{"n":"last"}']
    assert await bus.close_channel(channel)
    run_events = await asyncio.wait_for(_read(bus, channel), 10)
    assert [e.data for e in run_events] == [
        b'{"n":"unwatched"}', b'{"n":"watched"}', b'{"n":"run only"}', b'{"n":"last"}'
    ]  # fmt: skip


async def test_nothing_handed_over_is_lost_while_redis_is_away(tmp_path):
    from graphdock.server.adapters.redis.bus import RedisEventBus

    redis = PrivateRedis(tmp_path / "redis").start()
    bus = RedisEventBus(redis.url, prefix="t:")
    try:
        await bus.start()
        run_id = str(uuid.uuid4())
        channel = run_channel(run_id)
        appender = bus.appender(channel, fence=Lease(run_id, 1, 60.0))
        appender.put("values", b'{"n":0}')
        await appender.flush()
        redis.stop()  # comes back empty: what was written before is gone with it
        for i in range(1, 4):
            appender.put("values", b'{"n":%d}' % i)
        with pytest.raises(EventBusUnavailable):
            await appender.flush()
        assert appender.blocked
        appender.put("values", b'{"n":4}')
        redis.start()
        for _ in range(100):  # as the executor does: wait a while, then again
            try:
                await appender.flush()
                break
            except EventBusUnavailable:
                await asyncio.sleep(0.2)
        assert not appender.blocked
        assert await bus.close_channel(channel)
        events = await asyncio.wait_for(_read(bus, channel), 30)
        assert [e.data for e in events] == [b'{"n":%d}' % i for i in range(1, 5)]
    finally:
        await bus.close()
        redis.stop()
