"""Fixtures of the server tests beyond those of tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.support import scaleout


@pytest.fixture(params=["memory", "redis"])
async def bus(request):
    """An event bus of each kind: in memory, and on the machine's Redis under a key prefix
    of its own (dropped after)."""
    if request.param == "memory":
        from graphdock.server.adapters.memory.bus import MemoryEventBus

        bus = MemoryEventBus()
        yield bus
        await bus.close()
        return
    from graphdock.server.adapters.redis.bus import RedisEventBus

    scaleout.ensure_services()
    prefix = scaleout.new_prefix()
    bus = RedisEventBus(scaleout.REDIS_URL, prefix=prefix)
    await bus.start()
    yield bus
    await bus.close()
    scaleout.drop_prefix(prefix)
