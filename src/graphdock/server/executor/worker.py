"""The worker pool: claims runs from the queue and executes up to N of them at once.

A new run wakes the pool through the bus at once; the timed wait is only the fallback for
runs scheduled in the future (`after_seconds`) and for runs created by other processes when
no wake-up can reach us.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from graphdock.server.executor.runner import RunExecutor
from graphdock.server.ports.bus import EventBus
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
    ):
        self.queue = queue
        self.bus = bus
        self.executor = executor
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._active: dict[str, asyncio.Task] = {}
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
        dispatch, *others = self._tasks or [None]
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
        while not self._stopping:
            try:
                timeout = self.poll_interval
                free = self.concurrency - len(self._active)
                if free > 0:
                    claim = await self.queue.claim(
                        self.worker_id, clock.now(), self.lease_seconds, free
                    )
                    for run in claim.runs:
                        task = asyncio.create_task(self._execute(run), name=f"run-{run['run_id']}")
                        self._active[run["run_id"]] = task
                    self._backlog = len(claim.runs) == free
                    if claim.next_due is not None:
                        due_in = (claim.next_due - clock.now()).total_seconds()
                        timeout = max(0.0, min(timeout, due_in))
                await self.bus.wait_for_work(timeout)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming runs failed; retrying")
                await asyncio.sleep(self.poll_interval)

    async def _execute(self, run: dict) -> None:
        try:
            await self.executor.execute(run)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s failed outside its graph", run["run_id"])
        finally:
            self._active.pop(run["run_id"], None)
            if self._backlog:
                self.bus.wake_workers()  # a slot is free for a run the last claim left behind

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                until = clock.now() + timedelta(seconds=self.lease_seconds)
                active = list(self._active)
                held = await self.queue.heartbeat(active, self.worker_id, until)
                if held is not None and len(held) < len(active):
                    await self._drop_taken_over([r for r in active if r not in held])
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
            except Exception:
                log.exception("heartbeat failed")

    async def _drop_taken_over(self, run_ids: list[str]) -> None:
        """Runs another worker took over (this process stalled past its lease) stop here, so
        no step runs twice at once; the other worker goes on from the last checkpoint."""
        taken_over = getattr(self.queue, "taken_over", None)
        if taken_over is None:
            return
        for run_id in await taken_over(run_ids, self.worker_id):
            task = self._active.get(run_id)
            if task is not None:
                log.warning("run %s was taken over by another worker; stopping it here", run_id)
                task.cancel()

    async def _fail_lost(self, run: dict) -> None:
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
