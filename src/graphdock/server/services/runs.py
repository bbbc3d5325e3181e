"""Runs: creation (with multitask strategies), cancellation, and their lifecycle.

A run is a row first: creating one commits it as `pending` and turns its thread `busy` in
the same transaction, then wakes a worker. Everything a worker reports back (running,
success, error, interrupted, timeout) goes through `finish`, which keeps run and thread in
step: a thread is busy exactly while it has a pending or running run.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from graphdock.server import serde
from graphdock.server.config import WebhooksConfig
from graphdock.server.ports.bus import Event, EventBus, parse_event_id, run_channel
from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.records import AssistantRecord, Json, RunRecord, ThreadRecord
from graphdock.server.ports.storage import Fence, Storage, Transaction
from graphdock.server.services import clock, protocol
from graphdock.server.services.assistants import BOTH_CONTEXT_AND_CONFIGURABLE, AssistantService
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Conflict, Invalid, NotFound
from graphdock.server.services.ids import is_uuid, uuid7
from graphdock.server.services.run_config import run_kwargs
from graphdock.server.services.run_spec import RunSpec, ThreadRunCreate
from graphdock.server.services.state import CHECKPOINT_ADDRESS_KEYS, checkpoint_address
from graphdock.server.services.threads import ThreadService
from graphdock.server.services.webhooks import check_webhook_url

log = logging.getLogger("graphdock.runs")

RUN_FIELDS = (
    "run_id",
    "thread_id",
    "assistant_id",
    "metadata",
    "status",
    "kwargs",
    "multitask_strategy",
    "created_at",
    "updated_at",
)
ACTIVE = ("pending", "running")
NOT_RETAINED = "EventsNotRetained"
RESULT_EVENT = "__result__"  # internal: the wait/join body, published just before the log closes
BUSY_THREAD = "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
NOTHING_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, and the runs "
    "haven't been deleted or completed."
)


def shape(record: RunRecord) -> Json:
    out = {k: record.get(k) for k in RUN_FIELDS}
    out["langsmith_session_name"] = None
    return out


def is_internal(event: Event) -> bool:
    return event.event.startswith("__")


def event_mode(name: str) -> str:
    base = name.split("|", 1)[0]
    if base.startswith("messages/"):
        return "messages"
    if base == "messages":
        return "messages-tuple"
    return base


def not_retained(run: Mapping[str, Any], after: str | None) -> Event:
    """What a replay of a finished run gets once its events are gone (after the retention,
    or dropped for memory): an `error` event that says so and where the outcome still is,
    rather than a stream that ends as if there had been nothing to send."""
    run_id, thread_id = run["run_id"], run["thread_id"]
    message = (
        f"The events of run {run_id} are no longer retained: a finished run's events are "
        "kept for a limited time and memory (GRAPHDOCK_EVENT_RETENTION_SECONDS, "
        "GRAPHDOCK_EVENT_MEMORY_MB). Its status is at GET /threads/{t}/runs/{r}, the "
        "thread's state at GET /threads/{t}/state."
    ).format(t=thread_id, r=run_id)
    error = {"error": NOT_RETAINED, "message": message}
    ms, seq = parse_event_id(after)  # the client's own position, in our form
    return Event(f"{ms}-{seq}" if ms >= 0 else "0-0", "error", serde.dumps(error))


class RunService:
    def __init__(
        self,
        storage: Storage,
        assistants: AssistantService,
        threads: ThreadService,
        bus: EventBus,
        webhooks: WebhooksConfig | None,
        webhooks_enabled: bool = True,
    ):
        self.storage = storage
        self.assistants = assistants
        self.threads = threads
        self.bus = bus
        self.webhooks = webhooks
        self.webhooks_enabled = webhooks_enabled

    # ---------------------------------------------------------------- create
    async def create(
        self,
        thread_id: str | None,
        spec: RunSpec,
        ctx: RequestContext,
        *,
        thread_metadata: Json | None = None,
        protocol: Literal["v3"] | None = None,
        resume_if_interrupted: bool = False,
    ) -> Json:
        """Create a run on `thread_id`, or (a StatelessRunCreate) on a new thread of its own
        carrying `thread_metadata`. `protocol="v3"`: started through the thread protocol,
        the run logs its events there; `resume_if_interrupted`: on a thread waiting at an
        interrupt, its input is the answer (the protocol's run.start)."""
        stateful = isinstance(spec, ThreadRunCreate)
        if stateful != (thread_id is not None):
            raise TypeError("a ThreadRunCreate needs a thread_id, a StatelessRunCreate none")
        assistant_id = self.assistants.resolve_id(spec.assistant_id)
        sent_config = spec.config.model_dump(exclude_unset=True) if spec.config else {}
        if sent_config.get("configurable") and spec.context:
            raise BadRequest(BOTH_CONTEXT_AND_CONFIGURABLE)
        checkpoint = None
        if isinstance(spec, ThreadRunCreate):
            assert thread_id is not None
            if spec.checkpoint_id is not None and not is_uuid(spec.checkpoint_id):
                raise Invalid("Invalid checkpoint ID")
            checkpoint = checkpoint_address(
                spec.checkpoint.fields()
                if spec.checkpoint is not None
                else ({"checkpoint_id": spec.checkpoint_id} if spec.checkpoint_id else None),
                thread_id,
            )
            strategy = spec.multitask_strategy or "enqueue"
            temporary = False
        else:
            strategy = "reject"
            temporary = (spec.on_completion or "delete") == "delete"
        if spec.webhook:
            check_webhook_url(spec.webhook, self.webhooks)
        now = clock.now()
        run_id = uuid7()
        to_cancel: list[str] = []
        closed: list[RunRecord] = []
        async with self.storage.begin() as tx:
            assistant = await tx.get_assistant(
                assistant_id, self.assistants.run_access(assistant_id, ctx)
            )
            if assistant is None:
                raise NotFound("Thread or assistant not found.")
            graph_meta = {
                "graph_id": assistant["graph_id"],
                "assistant_id": assistant["assistant_id"],
            }
            if thread_id is None:
                thread_id = uuid7()
                await tx.insert_thread(
                    self._new_thread(thread_id, {**graph_meta, **(thread_metadata or {})}, now)
                )
                thread = await tx.get_thread(thread_id)
            else:
                assert isinstance(spec, ThreadRunCreate)
                thread = await tx.get_thread(thread_id, ctx.filter_for("threads"), lock=True)
                if thread is None:
                    if spec.if_not_exists != "create" or await tx.get_thread(thread_id) is not None:
                        raise NotFound("Thread or assistant not found.")
                    await tx.insert_thread(
                        self._new_thread(
                            thread_id,
                            ctx.stamp_for("threads"),
                            now,
                            config={"configurable": {}},
                        )
                    )
                    thread = await tx.get_thread(thread_id)
                for active in await tx.active_runs(thread_id):
                    if strategy == "reject":
                        raise Conflict(BUSY_THREAD)
                    if strategy not in ("interrupt", "rollback"):
                        continue
                    if active["status"] == "running":
                        to_cancel.append(active["run_id"])
                    elif strategy == "rollback":
                        await tx.delete_run(active["run_id"])
                        closed.append(active)
                    else:
                        await tx.update_run(
                            active["run_id"], {"status": "interrupted", "updated_at": now}
                        )
                        closed.append(active)
            if thread is None:  # inserted above, in this transaction
                raise NotFound("Thread or assistant not found.")
            metadata = {
                **(thread["metadata"] if stateful else {}),
                **assistant["metadata"],
                **(spec.metadata or {}),
            }
            if stateful:
                metadata.update(graph_meta)
            record: RunRecord = {
                "run_id": run_id,
                "thread_id": thread_id,
                "assistant_id": assistant["assistant_id"],
                "metadata": metadata,
                "status": "pending",
                "kwargs": run_kwargs(
                    spec,
                    assistant=assistant,
                    run_id=run_id,
                    thread_id=thread_id,
                    metadata=metadata,
                    ctx=ctx,
                    temporary=temporary,
                    checkpoint=checkpoint,
                    protocol=protocol,
                    resume_if_interrupted=resume_if_interrupted,
                ),
                "multitask_strategy": strategy,
                "created_at": now,
                "updated_at": now,
                "available_at": now + timedelta(seconds=float(spec.after_seconds or 0)),
                "attempt": 0,
            }
            await tx.insert_run(record)
            await tx.update_thread(
                thread_id,
                {
                    "status": "busy",
                    "updated_at": now,
                    "metadata": {**thread["metadata"], **graph_meta},
                    # the thread keeps the config its latest run was given, without internals
                    # and without a checkpoint to start from (state reads follow the latest)
                    "config": {
                        **sent_config,
                        "configurable": {
                            k: v
                            for k, v in (sent_config.get("configurable") or {}).items()
                            if k != "thread_id" and k not in CHECKPOINT_ADDRESS_KEYS
                        },
                    },
                },
            )
        for old in closed:
            await self.bus.close_channel(run_channel(old["run_id"]))
            await self.announce_unrun(thread_id, old["run_id"], old)
        for cancel_id in to_cancel:
            await self.bus.request_cancel(cancel_id, strategy)
        self.bus.wake_workers()
        return shape(record)

    @staticmethod
    def _new_thread(
        thread_id: str, metadata: Json, now: datetime, config: Json | None = None
    ) -> ThreadRecord:
        return {
            "thread_id": thread_id,
            "created_at": now,
            "updated_at": now,
            "state_updated_at": now,
            "metadata": metadata,
            "status": "busy",
            "config": config or {},
            "values": None,
            "interrupts": None,
            "error": None,
            "ttl": None,
            "expires_at": None,
        }

    # ---------------------------------------------------------------- read
    async def _thread_visible(
        self, tx: Transaction, thread_id: str, ctx: RequestContext
    ) -> ThreadRecord:
        thread = await tx.get_thread(thread_id, ctx.filter_for("threads"))
        if thread is None:
            raise NotFound(f"Thread with ID {thread_id} not found")
        return thread

    async def get(self, thread_id: str, run_id: str, ctx: RequestContext) -> Json:
        async with self.storage.begin() as tx:
            await self._thread_visible(tx, thread_id, ctx)
            run = await tx.get_run(run_id, thread_id)
        if run is None:
            raise NotFound("Not Found")
        return shape(run)

    async def list(
        self, thread_id: str, ctx: RequestContext, *, limit: int, offset: int, status: str | None
    ) -> list[Json]:
        async with self.storage.begin() as tx:
            await self._thread_visible(tx, thread_id, ctx)
            rows = await tx.list_runs(thread_id, status=status, limit=limit, offset=offset)
        return [shape(r) for r in rows]

    async def delete(self, thread_id: str, run_id: str, ctx: RequestContext) -> None:
        async with self.storage.begin() as tx:
            await self._thread_visible(tx, thread_id, ctx)
            run = await tx.get_run(run_id, thread_id)
            if run is None or not await tx.delete_run(run_id):
                raise NotFound("Run not found")
        if run["status"] == "running":
            await self.bus.request_cancel(run_id, "delete")
        else:
            await self.bus.close_channel(run_channel(run_id))
            await self.settle_thread(thread_id)

    # ---------------------------------------------------------------- cancel
    async def cancel(
        self, thread_id: str, run_id: str, ctx: RequestContext, *, action: str = "interrupt"
    ) -> None:
        async with self.storage.begin() as tx:
            await self._thread_visible(tx, thread_id, ctx)
            run = await tx.get_run(run_id, thread_id)
        if run is None:
            raise NotFound("No runs found to cancel.")
        if run["status"] not in ACTIVE:
            raise NotFound(NOTHING_TO_CANCEL)
        await self.stop(run, action)

    async def cancel_many(
        self, body: dict, ctx: RequestContext, *, action: str = "interrupt"
    ) -> None:
        status = body.get("status")
        if status is not None and (body.get("thread_id") or body.get("run_ids")):
            raise Invalid(
                "When providing a 'status', 'thread_id' and 'run_ids' must be omitted. The 'status' parameter "
                "cancels all runs with the given status, regardless of thread or run ID."
            )
        async with self.storage.begin() as tx:
            if status is not None:
                wanted = ACTIVE if status == "all" else (status,)
                runs = await tx.runs_with_status(wanted)
                if ctx.filter_for("threads"):
                    runs = [
                        r
                        for r in runs
                        if await tx.get_thread(r["thread_id"], ctx.filter_for("threads"))
                    ]
            else:
                thread_id = body.get("thread_id")
                if thread_id is None or not body.get("run_ids"):
                    raise Invalid("Give either 'status', or 'thread_id' with 'run_ids'")
                if await tx.get_thread(thread_id, ctx.filter_for("threads")) is None:
                    raise NotFound("No runs found to cancel.")
                runs = [r for rid in body["run_ids"] if (r := await tx.get_run(rid, thread_id))]
                runs = [r for r in runs if r["status"] in ACTIVE]
        if not runs:
            raise NotFound("No runs found to cancel.")
        for run in runs:
            await self.stop(run, action)

    async def stop(self, run: RunRecord, action: str) -> None:
        action = "rollback" if action == "rollback" else "interrupt"
        if run["status"] == "pending":
            async with self.storage.begin() as tx:
                current = await tx.get_run(run["run_id"])
                # still pending: no worker has it, so it ends here, unrun
                unrun = current if current is not None and current["status"] == "pending" else None
                if unrun is not None:
                    if action == "rollback":
                        await tx.delete_run(run["run_id"])
                    else:
                        await tx.update_run(
                            run["run_id"], {"status": "interrupted", "updated_at": clock.now()}
                        )
            if unrun is not None:
                await self.bus.close_channel(run_channel(unrun["run_id"]))
                await self.settle_thread(unrun["thread_id"])
                await self.announce_unrun(unrun["thread_id"], unrun["run_id"], unrun)
                return
        await self.bus.request_cancel(run["run_id"], action)

    async def announce_unrun(self, thread_id: str, run_id: str, run: RunRecord) -> None:
        """A run that ended before any worker ran it still ends on the thread's protocol
        stream, so a subscriber waiting for it is not left waiting."""
        if run["kwargs"].get("protocol") == "v3" or await self.bus.thread_watched(thread_id):
            await self.bus.append_thread_events(thread_id, [protocol.cancelled(run_id)])

    async def settle_thread(self, thread_id: str) -> None:
        """After a run left a thread without running it: busy only if runs remain."""
        async with self.storage.begin() as tx:
            thread = await tx.get_thread(thread_id)
            if thread is None:
                return
            if await tx.active_runs(thread_id):
                await tx.update_thread(thread_id, {"status": "busy"})
                self.bus.wake_workers()  # a run queued behind the one removed may start now
                return
            status = "interrupted" if thread.get("interrupts") else "idle"
            if thread["status"] != "busy":
                return
            await tx.update_thread(thread_id, {"status": status, "updated_at": clock.now()})

    # ---------------------------------------------------------------- lifecycle (called by workers)
    async def mark_finished(
        self,
        run: RunRecord,
        *,
        status: str,
        thread_values: dict,
        delete_run: bool = False,
        fence: Fence | None = None,
    ) -> None:
        """Record a run's end and its thread's new state, in one transaction; with `fence`,
        only while that attempt holds the run (else StaleAttempt, and nothing is written)."""
        now = clock.now()
        async with self.storage.begin() as tx:
            if delete_run:
                await tx.delete_run(run["run_id"], fence=fence)
            else:
                await tx.update_run(
                    run["run_id"],
                    {"status": status, "updated_at": now, "ended_at": now, "lease_until": None},
                    fence=fence,
                )
            changes = {**thread_values, "updated_at": now}
            if "values" in thread_values:
                changes["state_updated_at"] = now
            waiting = any(
                r["run_id"] != run["run_id"] for r in await tx.active_runs(run["thread_id"])
            )
            if waiting:
                changes["status"] = "busy"
            await tx.update_thread(run["thread_id"], changes)
        if waiting:
            self.bus.wake_workers()  # the next run on this thread can start now

    async def release(self, run: RunRecord, *, fence: Fence) -> None:
        """Hand a run back to the queue (its worker is stopping); it resumes from its
        checkpoint. Not if another attempt has it by now (this one's lease ran out)."""
        try:
            async with self.storage.begin() as tx:
                released = await tx.update_run(
                    run["run_id"],
                    {"status": "pending", "worker_id": None, "lease_until": None},
                    fence=fence,
                )
        except StaleAttempt:
            released = False
        if released:
            self.bus.wake_workers()  # another process's worker may take it now

    async def assistant_record(self, assistant_id: str) -> AssistantRecord:
        async with self.storage.begin() as tx:
            record = await tx.get_assistant(assistant_id)
        if record is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        return record

    async def delete_temporary_thread(self, thread_id: str) -> None:
        async with self.storage.begin() as tx:
            await tx.delete_thread(thread_id)
        await self.threads.checkpointer.adelete_thread(thread_id)

    # ---------------------------------------------------------------- events
    async def storage_run(self, run_id: str) -> RunRecord | None:
        async with self.storage.begin() as tx:
            return await tx.get_run(run_id)

    async def find_run(self, thread_id: str, run_id: str, ctx: RequestContext) -> RunRecord | None:
        async with self.storage.begin() as tx:
            if await tx.get_thread(thread_id, ctx.filter_for("threads")) is None:
                return None
            return await tx.get_run(run_id, thread_id)

    async def events(
        self,
        run: Mapping[str, Any],
        *,
        after: str | None = None,
        modes: builtins.list[str] | None = None,
        idle: float | None = None,
    ) -> AsyncIterator[builtins.list[Event]]:
        """Batches of the run's events from `after` on (all without it), live until it ends;
        for a finished run whose events are no longer kept, one `error` event that says so."""
        channel = run_channel(run["run_id"])
        if run["status"] not in ACTIVE and not await self.bus.has_channel(channel):
            yield [not_retained(run, after)]
            return
        seen = False
        async for batch in self.bus.subscribe(channel, after=after, idle=idle):
            seen = seen or bool(batch)
            kept = [
                e
                for e in batch
                if not is_internal(e)
                and (not modes or e.event in ("metadata", "error") or event_mode(e.event) in modes)
            ]
            if kept or not batch:  # an empty batch is an idle tick
                yield kept
        if not seen and not await self.bus.has_channel(channel):
            yield [not_retained(run, after)]  # it ended, and its log went, before we looked

    async def result(self, run: Mapping[str, Any]) -> bytes:
        """The wait/join body: final values, `__error__`, or values with `__interrupt__`."""
        channel = run_channel(run["run_id"])
        if run["status"] in ACTIVE or await self.bus.has_channel(channel):
            async for batch in self.bus.subscribe(channel):
                for event in batch:
                    if event.event == RESULT_EVENT:
                        return event.data
        async with self.storage.begin() as tx:
            thread = await tx.get_thread(run["thread_id"])
        values = thread["values"] if thread and thread.get("values") is not None else {}
        if thread and thread.get("status") == "error" and thread.get("error"):
            return serde.dumps({"__error__": thread["error"]})
        return serde.dumps(values)

    async def wait_until_done(self, run: Mapping[str, Any], timeout: float | None = None) -> None:
        try:
            await asyncio.wait_for(self.result(run), timeout)
        except TimeoutError:
            pass
