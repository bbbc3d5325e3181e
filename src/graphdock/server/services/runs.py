"""Runs: creation (with multitask strategies), cancellation, and their lifecycle.

A run is a row first: creating one commits it as `pending` and turns its thread `busy` in
the same transaction, then wakes a worker. Everything a worker reports back (running,
success, error, interrupted, timeout) goes through `finish`, which keeps run and thread in
step: a thread is busy exactly while it has a pending or running run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from graphdock.server import serde
from graphdock.server.config import WebhooksConfig
from graphdock.server.ports.bus import Event, EventBus, run_channel
from graphdock.server.ports.errors import StaleAttempt
from graphdock.server.ports.storage import Fence, Storage
from graphdock.server.services import clock
from graphdock.server.services.assistants import BOTH_CONTEXT_AND_CONFIGURABLE, AssistantService
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Conflict, Invalid, NotFound
from graphdock.server.services.ids import is_uuid, uuid7
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
STREAM_MODES = (
    "values",
    "messages",
    "messages-tuple",
    "updates",
    "events",
    "debug",
    "custom",
    "tasks",
    "checkpoints",
)
ACTIVE = ("pending", "running")
RESULT_EVENT = "__result__"  # internal: the wait/join body, published just before the log closes
BUSY_THREAD = "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
NOTHING_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, and the runs "
    "haven't been deleted or completed."
)


def shape(record: dict) -> dict:
    out = {k: record.get(k) for k in RUN_FIELDS}
    out["langsmith_session_name"] = None
    return out


def is_internal(event: Event) -> bool:
    return event.event.startswith("__")


def normalize_modes(value: Any) -> list[str]:
    modes = [value] if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(modes)) or ["values"]


def event_mode(name: str) -> str:
    base = name.split("|", 1)[0]
    if base.startswith("messages/"):
        return "messages"
    if base == "messages":
        return "messages-tuple"
    return base


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
    async def create(self, thread_id: str | None, body: dict, ctx: RequestContext) -> dict:
        """Create a run on `thread_id`, or on a new temporary thread when it is None."""
        stateless = thread_id is None
        assistant_id = self.assistants.resolve_id(body["assistant_id"])
        config = dict(body.get("config") or {})
        context = body.get("context")
        if config.get("configurable") and context:
            raise BadRequest(BOTH_CONTEXT_AND_CONFIGURABLE)
        if body.get("checkpoint_id") is not None and not is_uuid(body["checkpoint_id"]):
            raise Invalid("Invalid checkpoint ID")
        if body.get("webhook"):
            check_webhook_url(body["webhook"], self.webhooks)
        now = clock.now()
        run_id = uuid7()
        on_completion = body.get("on_completion") or ("delete" if stateless else None)
        temporary = stateless and on_completion == "delete"
        strategy = body.get("multitask_strategy") or ("enqueue" if not stateless else "reject")
        to_cancel: list[str] = []
        closed: list[str] = []
        async with self.storage.begin() as tx:
            assistant = await tx.get_assistant(assistant_id, ctx.filter_for("assistants"))
            if assistant is None:
                raise NotFound("Thread or assistant not found.")
            graph_meta = {
                "graph_id": assistant["graph_id"],
                "assistant_id": assistant["assistant_id"],
            }
            if stateless:
                thread_id = uuid7()
                await tx.insert_thread(
                    self._new_thread(
                        thread_id, {**graph_meta, **(body.get("thread_metadata") or {})}, now
                    )
                )
                thread = await tx.get_thread(thread_id)
            else:
                thread = await tx.get_thread(thread_id, ctx.filter_for("threads"), lock=True)
                if thread is None:
                    if (
                        body.get("if_not_exists") != "create"
                        or await tx.get_thread(thread_id) is not None
                    ):
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
                        closed.append(active["run_id"])
                    else:
                        await tx.update_run(
                            active["run_id"], {"status": "interrupted", "updated_at": now}
                        )
                        closed.append(active["run_id"])
            metadata = {
                **(thread["metadata"] if not stateless else {}),
                **assistant["metadata"],
                **(body.get("metadata") or {}),
            }
            if not stateless:
                metadata.update(graph_meta)
            record = {
                "run_id": run_id,
                "thread_id": thread_id,
                "assistant_id": assistant["assistant_id"],
                "metadata": metadata,
                "status": "pending",
                "kwargs": self._kwargs(
                    body, config, context, run_id, thread_id, assistant, metadata, ctx, temporary
                ),
                "multitask_strategy": strategy,
                "created_at": now,
                "updated_at": now,
                "available_at": now + timedelta(seconds=float(body.get("after_seconds") or 0)),
                "attempt": 0,
            }
            await tx.insert_run(record)
            await tx.update_thread(
                thread_id,
                {
                    "status": "busy",
                    "updated_at": now,
                    "metadata": {**thread["metadata"], **graph_meta},
                    # the thread keeps the config its latest run was given (without internals)
                    "config": {**config, "configurable": dict(config.get("configurable") or {})},
                },
            )
        for old in closed:
            await self.bus.close_channel(run_channel(old))
        for old in to_cancel:
            await self.bus.request_cancel(old, strategy)
        self.bus.wake_workers()
        return shape(record)

    @staticmethod
    def _new_thread(thread_id: str, metadata: dict, now, config: dict | None = None) -> dict:
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

    @staticmethod
    def _kwargs(
        body,
        config,
        context,
        run_id,
        thread_id,
        assistant,
        metadata,
        ctx: RequestContext,
        temporary,
    ) -> dict:
        user = ctx.user
        configurable = {
            **ctx.headers,
            **(config.get("configurable") or {}),
            **(context or {}),
            "langgraph_auth_user": user,
            "langgraph_auth_user_id": ctx.identity,
            "langgraph_auth_permissions": (user or {}).get("permissions", []),
            "langgraph_request_id": ctx.request_id,
            "run_id": run_id,
            "thread_id": thread_id,
            "graph_id": assistant["graph_id"],
            "assistant_id": assistant["assistant_id"],
            "user_id": ctx.identity,
        }
        checkpoint = body.get("checkpoint") or (
            {"checkpoint_id": body["checkpoint_id"]} if body.get("checkpoint_id") else None
        )
        durability = body.get("durability") or (
            "exit" if body.get("checkpoint_during") is False else "async"
        )
        kwargs = {
            "input": body.get("input"),
            "command": body.get("command"),
            "config": {**config, "configurable": configurable, "metadata": metadata},
            "context": context or {},
            "stream_mode": normalize_modes(body.get("stream_mode")),
            "interrupt_before": body.get("interrupt_before"),
            "interrupt_after": body.get("interrupt_after"),
            "webhook": body.get("webhook"),
            "feedback_keys": body.get("feedback_keys"),
            "temporary": temporary,
            "subgraphs": bool(body.get("stream_subgraphs")),
            "resumable": bool(body.get("stream_resumable")),
            "checkpoint_during": True
            if body.get("checkpoint_during") is None
            else body["checkpoint_during"],
            "durability": durability,
        }
        if checkpoint:
            kwargs["checkpoint"] = checkpoint
        if body.get("on_disconnect"):
            kwargs["on_disconnect"] = body["on_disconnect"]
        return kwargs

    # ---------------------------------------------------------------- read
    async def _thread_visible(self, tx, thread_id: str, ctx: RequestContext) -> dict:
        thread = await tx.get_thread(thread_id, ctx.filter_for("threads"))
        if thread is None:
            raise NotFound(f"Thread with ID {thread_id} not found")
        return thread

    async def get(self, thread_id: str, run_id: str, ctx: RequestContext) -> dict:
        async with self.storage.begin() as tx:
            await self._thread_visible(tx, thread_id, ctx)
            run = await tx.get_run(run_id, thread_id)
        if run is None:
            raise NotFound("Not Found")
        return shape(run)

    async def list(
        self, thread_id: str, ctx: RequestContext, *, limit: int, offset: int, status: str | None
    ) -> list[dict]:
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

    async def stop(self, run: dict, action: str) -> None:
        action = "rollback" if action == "rollback" else "interrupt"
        if run["status"] == "pending":
            async with self.storage.begin() as tx:
                current = await tx.get_run(run["run_id"])
                if current is not None and current["status"] == "pending":
                    if action == "rollback":
                        await tx.delete_run(run["run_id"])
                    else:
                        await tx.update_run(
                            run["run_id"], {"status": "interrupted", "updated_at": clock.now()}
                        )
                    run = None
            if run is None:
                await self.bus.close_channel(run_channel(current["run_id"]))
                await self.settle_thread(current["thread_id"])
                return
        await self.bus.request_cancel(run["run_id"], action)

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
        run: dict,
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

    async def release(self, run: dict, *, fence: Fence) -> None:
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

    async def assistant_record(self, assistant_id: str) -> dict:
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
    async def storage_run(self, run_id: str) -> dict | None:
        async with self.storage.begin() as tx:
            return await tx.get_run(run_id)

    async def find_run(self, thread_id: str, run_id: str, ctx: RequestContext) -> dict | None:
        async with self.storage.begin() as tx:
            if await tx.get_thread(thread_id, ctx.filter_for("threads")) is None:
                return None
            return await tx.get_run(run_id, thread_id)

    async def events(
        self,
        run: dict,
        *,
        after: str | None = None,
        modes: list[str] | None = None,
        idle: float | None = None,
    ) -> AsyncIterator[list[Event]]:
        """Batches of the run's events from `after` on (all without it), live until it ends."""
        channel = run_channel(run["run_id"])
        if run["status"] not in ACTIVE and not await self.bus.has_channel(channel):
            return
        async for batch in self.bus.subscribe(channel, after=after, idle=idle):
            kept = [
                e
                for e in batch
                if not is_internal(e)
                and (not modes or e.event in ("metadata", "error") or event_mode(e.event) in modes)
            ]
            if kept or not batch:  # an empty batch is an idle tick
                yield kept

    async def result(self, run: dict) -> bytes:
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

    async def wait_until_done(self, run: dict, timeout: float | None = None) -> None:
        try:
            await asyncio.wait_for(self.result(run), timeout)
        except TimeoutError:
            pass
