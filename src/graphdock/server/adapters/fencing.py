"""Fenced checkpoint writes: a run's checkpoints are written only while its attempt holds it.

The executor puts the run's Fence into the config its graph runs with (`FENCE_KEY`), and
langgraph hands that config to every `aput` / `aput_writes`. The checkpointers here look at
the run's row in the same database, atomically with the write: on PostgreSQL in the write's
own transaction, through a function (`graphdock_fence`) that holds the row `FOR SHARE`, so
that a claim or a sweep of the run waits for the write to commit (or the write, coming
second, sees the run's new attempt and is refused), sent down the same pipeline as the write;
on SQLite under the one lock every statement of the process takes turns through. One indexed
read of one row per write; nothing at all for writes without a fence (the API's own).

The fence travels from the checkpointer's `aput` to the place that opens its connection in
a context variable, set only for the duration of that one write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.storage import FENCE_KEY, Fence

_writing: ContextVar[Fence | None] = ContextVar("graphdock_fenced_write", default=None)


def fence_of(config: Mapping[str, Any] | None) -> Fence | None:
    return ((config or {}).get("configurable") or {}).get(FENCE_KEY)


@contextlib.contextmanager
def writing_for(fence: Fence) -> Iterator[None]:
    """Mark the writes made inside as made for `fence`'s attempt."""
    token = _writing.set(fence)
    try:
        yield
    finally:
        _writing.reset(token)


def current() -> Fence | None:
    """The fence of the write being made now, if it has one."""
    return _writing.get()


def check_held(fence: Fence) -> None:
    """Refuse at once, without a database round trip, when the worker knows it lost the run."""
    if not fence.held:
        raise StaleAttempt(fence.run_id, fence.attempt, "its worker lost the lease")


def check_holder(fence: Fence, status: str | None, attempt: int | None) -> None:
    """Refuse unless the run is running at this attempt. A run deleted meanwhile (no row) is
    let through: no other attempt can have it, and its cancel is on the way."""
    if status is None:
        return
    if status != "running" or attempt != fence.attempt:
        raise StaleAttempt(fence.run_id, fence.attempt, f"the run is {status} at attempt {attempt}")
