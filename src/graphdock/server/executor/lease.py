"""A worker's lease on one execution attempt of a run.

The queue hands a run to a worker with a lease that the worker renews (the heartbeat); a
run whose lease ran out is re-queued and claimed again, as a new attempt. A worker that was
stalled past its lease (a long pause of its process, a network partition, a database it
could not reach to renew) must not go on as if nothing happened: its attempt is over.

`Lease` is what the worker knows of that: when its lease runs out by its own clock (the
monotonic one, which a paused process does not stop), and whether the heartbeat found the
run gone to another attempt. It is the run's `Fence` (ports/storage.py) for every write:
storage and the event bus refuse an older attempt's writes whatever the worker believes,
and `check` stops the attempt at its next step without a round trip.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from graphdock.server.ports.errors import StaleAttempt, Unavailable
from graphdock.server.ports.records import RunRecord

log = logging.getLogger("graphdock.worker")

T = TypeVar("T")


class LeaseLost(Exception):
    """This worker no longer holds the run (see `Lease.lost`): stop, record nothing."""


@dataclass(eq=False)
class Lease:
    run_id: str
    attempt: int
    seconds: float
    deadline: float = field(default=float("inf"))  # time.monotonic() at which it runs out
    lost: str | None = None  # why it was lost, once it was
    ended: bool = False  # the attempt recorded the run's end: nothing is left to lose

    @classmethod
    def starting(cls, run: RunRecord, seconds: float, at: float) -> Lease:
        """The lease of a run claimed by a request sent at `at` (monotonic)."""
        return cls(run["run_id"], run["attempt"], seconds, deadline=at + seconds)

    @property
    def held(self) -> bool:
        if self.ended:
            return True
        if self.lost is None and time.monotonic() >= self.deadline:
            self.lost = f"its lease ran out ({self.seconds:g} s) without being renewed"
        return self.lost is None

    def renewed(self, at: float) -> None:
        """The heartbeat sent at `at` (monotonic) extended the lease in the database."""
        if self.held:
            self.deadline = max(self.deadline, at + self.seconds)

    def lose(self, why: str) -> None:
        if self.lost is None and not self.ended:
            self.lost = why

    def end(self) -> None:
        """The run's end is recorded: the run is no longer `running`, which the heartbeat
        must not take for a lost lease while the stream is being closed."""
        if self.held:
            self.ended = True

    def check(self) -> None:
        """Raise LeaseLost unless the lease is still held."""
        if not self.held:
            raise LeaseLost(f"run {self.run_id}, attempt {self.attempt}: {self.lost}")

    async def persist(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` until it succeeds, waiting out a database or event bus that cannot be
        reached for as long as the lease holds (the heartbeat renews it when the database
        is back; when it cannot, the lease runs out and the attempt stops here). Safe for
        writes that are fenced: a retry after a lost reply is refused if it is stale."""
        delay, waited = 0.1, False
        while True:
            self.check()
            try:
                return await call()
            except StaleAttempt as exc:
                self.lose(str(exc))
                raise LeaseLost(str(exc)) from exc
            except Unavailable as exc:
                if not waited:
                    log.warning("run %s waits: %s", self.run_id, exc.detail)
                    waited = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
