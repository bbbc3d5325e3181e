"""The worker pool: claims runs from the queue and executes up to N of them at once.

A new run wakes the pool through the bus at once; the timed wait is only the fallback for
runs scheduled in the future (`after_seconds`) and for runs created by other processes when
no wake-up can reach us.

Each run executes under a `Lease` (lease.py), renewed by the heartbeat. A run whose lease
ran out by this process's clock (the process was paused, or could not reach the database to
renew it), or that the heartbeat finds re-queued or run by another attempt, is stopped here
at once and records nothing: another worker resumes it from its last checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import timedelta

from graphdock.server.executor.lease import Lease
from graphdock.server.executor.runner import RunExecutor
from graphdock.server.ports.bus import EventBus
from graphdock.server.ports.errors import Unavailable
from graphdock.server.ports.records import RunRecord
from graphdock.server.ports.storage import Queue
from graphdock.server.services import clock

log = logging.getLogger("graphdock.worker")


class WorkerPool:
    def __init__(
        self,
        queue: Queue,
        bus: EventBus,
        executor: RunExecutor,
        *,
        concurrency: int = 10,
        poll_interval: float = 2.0,
        lease_seconds: float = 30.0,
        max_attempts: int = 3,
        sole_worker: bool = False,
    ):
        """`sole_worker`: no other process executes runs of this storage (embedded), so none
        can take a run over; a lease that ran out by the clock (a graph that held the event
        loop past it) is renewed, not given up."""
        self.queue = queue
        self.bus = bus
        self.executor = executor
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.sole_worker = sole_worker
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._active: dict[str, asyncio.Task] = {}
        self._leases: dict[str, Lease] = {}
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        # The last claim filled every free slot, so runs may be waiting for one. Not derivable
        # from `_active`: a run can end while a claim is in flight, before the claimed runs
        # count as active, and must still wake the pool.
        self._backlog = False

    @property
    def active(self) -> int:
        return len(self._active)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._dispatch(), name="graphdock-dispatch"),
            asyncio.create_task(self._heartbeat(), name="graphdock-heartbeat"),
        ]

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give in-flight runs `grace` seconds, then hand them back.

        Leases are still renewed meanwhile, so no other worker takes a run that is draining.
        """
        self._stopping = True
        dispatch, others = (self._tasks[0], self._tasks[1:]) if self._tasks else (None, [])
        if dispatch is not None:
            dispatch.cancel()
        if self._active:
            _, pending = await asyncio.wait(list(self._active.values()), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        for task in others:
            task.cancel()

    async def _dispatch(self) -> None:
        """Claim what fits, then sleep until woken, until a scheduled run falls due, or for
        the poll interval, whichever comes first.

        One claim per wake-up: a claim that fills every free slot may have left runs
        behind, and a finishing run wakes the pool to take them (`_execute`); one that fills
        fewer found the queue empty, so the next new run, or a run that frees a busy
        thread, wakes the pool again through the bus.
        """
        down = False
        while not self._stopping:
            try:
                timeout = self.poll_interval
                free = self.concurrency - len(self._active)
                if free > 0:
                    asked_at = time.monotonic()
                    claim = await self.queue.claim(
                        self.worker_id, clock.now(), self.lease_seconds, free
                    )
                    for run in claim.runs:
                        lease = Lease.starting(run, self.lease_seconds, asked_at)
                        if self.sole_worker:
                            lease.deadline = float("inf")
                        self._start(run, lease)
                    self._backlog = len(claim.runs) == free
                    down = False
                    if claim.next_due is not None:
                        due_in = (claim.next_due - clock.now()).total_seconds()
                        timeout = max(0.0, min(timeout, due_in))
                await self.bus.wait_for_work(timeout)
            except asyncio.CancelledError:
                raise
            except Unavailable as exc:
                if not down:  # once per outage, not on every poll
                    log.warning("claiming runs failed: %s", exc.detail)
                down = True
                await asyncio.sleep(self.poll_interval)
            except Exception:
                log.exception("claiming runs failed; retrying")
                await asyncio.sleep(self.poll_interval)

    def _start(self, run: RunRecord, lease: Lease) -> None:
        run_id = run["run_id"]
        earlier = self._active.get(run_id)
        if earlier is not None:  # an attempt of ours stalled past its lease, still stopping
            self._leases[run_id].lose("the run was claimed again")
            earlier.cancel()
        self._leases[run_id] = lease
        self._active[run_id] = asyncio.create_task(self._execute(run, lease), name=f"run-{run_id}")

    async def _execute(self, run: RunRecord, lease: Lease) -> None:
        try:
            await self.executor.execute(run, lease)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s failed outside its graph", run["run_id"])
        finally:
            if self._leases.get(run["run_id"]) is lease:
                del self._leases[run["run_id"]]
                self._active.pop(run["run_id"], None)
            if self._backlog:
                self.bus.wake_workers()  # a slot is free for a run the last claim left behind

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            self._stop_lost()  # first: after a pause, before anything else of ours runs on
            try:
                async with asyncio.timeout(self.lease_seconds / 3):
                    await self._renew()
                if self._stopping:
                    continue  # draining: keep our leases, leave sweeping to the others
                for run in await self.queue.requeue_expired(clock.now(), self.max_attempts):
                    if run["status"] == "pending":
                        log.warning("run %s lost its worker; re-queued", run["run_id"])
                        self.bus.wake_workers()
                    else:
                        log.warning("run %s lost its worker too often; failed", run["run_id"])
                        await self._fail_lost(run)
            except asyncio.CancelledError:
                raise
            except (Unavailable, TimeoutError) as exc:
                reason = exc.detail if isinstance(exc, Unavailable) else "the database is slow"
                log.warning("heartbeat failed (%s); leases run out unless renewed in time", reason)
            except Exception:
                log.exception("heartbeat failed")

    async def _renew(self) -> None:
        leases = [lease for lease in self._leases.values() if lease.held]
        if not leases:
            return
        sent_at = time.monotonic()  # before `until`: our deadline falls before the database's
        until = clock.now() + timedelta(seconds=self.lease_seconds)
        held = await self.queue.heartbeat(leases, self.worker_id, until)
        for lease in leases:
            if lease.run_id in held:
                lease.renewed(sent_at)
        missing = [lease for lease in leases if lease.run_id not in held]
        if missing:
            stale = set(await self.queue.stale(missing))
            for lease in missing:
                if lease.run_id in stale:
                    lease.lose("the run was re-queued or taken over by another worker")
            self._stop_lost()

    def _stop_lost(self) -> None:
        """Stop the runs whose lease is gone; another worker resumes them from their last
        checkpoint, and storage refuses whatever this one still tries to write."""
        for run_id, lease in list(self._leases.items()):
            task = self._active.get(run_id)
            if not lease.held and task is not None and not task.done():
                task.cancel()

    async def _fail_lost(self, run: RunRecord) -> None:
        """A run past its retry limit ends as an error, so its waiters and streams end too."""
        from graphdock.server import serde
        from graphdock.server.ports.bus import run_channel
        from graphdock.server.services.runs import RESULT_EVENT

        error = {
            "error": "WorkerLost",
            "message": f"the run's worker stopped {run['attempt']} time(s); giving up",
        }
        channel = run_channel(run["run_id"])
        if run["kwargs"].get("temporary"):
            await self.executor.runs.delete_temporary_thread(run["thread_id"])
        await self.bus.publish(channel, "error", serde.dumps(error))
        await self.bus.publish(channel, RESULT_EVENT, serde.dumps({"__error__": error}))
        await self.bus.close_channel(channel)
        await self.executor.runs.mark_finished(
            run, status="error", thread_values={"status": "error", "error": error}
        )
