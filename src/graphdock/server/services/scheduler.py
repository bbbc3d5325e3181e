"""The cron scheduler: a loop that fires due crons, each due time exactly once.

Any number of schedulers may share one database (several server processes on Postgres, or
two in a test): each *claims* a due cron by moving its `next_run_date` on with a
conditional update (`WHERE next_run_date = <the value it read>`), and only the one whose
update matched fires it. A claim is committed before the run is created, so a crash in
between loses that one firing rather than firing it twice.

After downtime a cron fires once for everything it missed and then resumes its schedule
(the next date is computed from *now*, not from the missed date), so a server that was
off for an hour does not start with sixty runs of a minutely cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from graphdock.server.ports.errors import Unavailable
from graphdock.server.ports.records import CronRecord
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.crons import CronService
from graphdock.server.services.errors import ServiceError

log = logging.getLogger("graphdock.scheduler")

EARLY_WAKE_MARGIN = 0.005  # timers may fire a hair early; waking just after the due time is enough


class CronScheduler:
    def __init__(
        self, storage: Storage, crons: CronService, *, interval: float = 1.0, batch: int = 100
    ):
        self.storage = storage
        self.crons = crons
        self.interval = max(float(interval), 0.01)
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="graphdock-cron-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Look again now: a cron was created or changed, and may be due before the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        down = False  # the database is out of reach: said once, not on every tick
        while True:
            self._wake.clear()
            delay = self.interval
            try:
                await self.tick()
                delay = await self._delay()
                down = False
            except Unavailable as exc:
                if not down:
                    log.warning("cron scheduler: %s; crons fire once it is back", exc.detail)
                down = True
            except Exception:
                log.exception("cron scheduler: a tick failed; retrying in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _delay(self) -> float:
        """Until the next due time if it comes before the next poll, else the poll interval.

        Polling still matters: another process may create a cron this one never hears of.
        """
        now = clock.now()
        async with self.storage.begin() as tx:
            soon = await tx.due_crons(now + timedelta(seconds=self.interval), 1)
        due_at = soon[0]["next_run_date"] if soon else None  # due crons all have one
        if due_at is None:
            return self.interval
        return max(0.0, (due_at - now).total_seconds()) + EARLY_WAKE_MARGIN

    # ---------------------------------------------------------------- one pass
    async def tick(self, now: datetime | None = None) -> int:
        """Fire every cron due at `now` that this scheduler wins; returns how many it fired."""
        now = now or clock.now()
        async with self.storage.begin() as tx:
            due = await tx.due_crons(now, self.batch)
        fired = 0
        for cron in due:
            if await self._claim(cron, now) and await self._fire(cron):
                fired += 1
        return fired

    async def _claim(self, cron: CronRecord, now: datetime) -> bool:
        """Move the cron on; True if this scheduler did it and the due time is still wanted."""
        due_at = cron["next_run_date"]
        if due_at is None:  # not due at all (due_crons returns none of these)
            return False
        try:
            upcoming = self.crons.following(cron, now)
        except Exception:
            log.exception("cron %s: cannot compute its next date; stopping it", cron["cron_id"])
            upcoming = None
        async with self.storage.begin() as tx:
            won = await tx.claim_due_cron(cron["cron_id"], due_at, upcoming)
        end_time = cron["end_time"]
        ended = end_time is not None and due_at > end_time
        return won and not ended

    async def _fire(self, cron: CronRecord) -> bool:
        try:
            run = await self.crons.fire(cron)
        except (ServiceError, Unavailable) as exc:  # e.g. a busy thread, strategy reject
            log.warning("cron %s: firing skipped: %s", cron["cron_id"], exc.detail)
            return False
        except Exception:
            log.exception("cron %s: firing failed", cron["cron_id"])
            return False
        if run is not None:
            log.debug("cron %s fired run %s", cron["cron_id"], run["run_id"])
        return run is not None
