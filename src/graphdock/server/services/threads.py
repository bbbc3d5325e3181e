"""Threads: conversations with durable, checkpointed state and history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import InvalidUpdateError
from langgraph.types import StateUpdate

from graphdock.server import serde
from graphdock.server.ports.bus import EventBus, thread_channel
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Conflict, Invalid, NotFound
from graphdock.server.services.graphs import GraphRegistry
from graphdock.server.services.ids import is_uuid, uuid4, uuid7
from graphdock.server.services.state import (
    empty_state,
    snapshot_view,
    thread_interrupts,
    thread_status,
)

THREAD_FIELDS = (
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "status",
    "config",
    "values",
)
SORT_FIELDS = ("thread_id", "status", "created_at", "updated_at", "state_updated_at")
STATUSES = ("idle", "busy", "interrupted", "error")


def shape(record: dict) -> dict:
    out = {k: record.get(k) for k in THREAD_FIELDS}
    if record.get("interrupts") is not None:  # a thread gains these once a run has ended on it
        out["error"] = record.get("error")
        out["interrupts"] = record["interrupts"]
    return out


def _expires_at(ttl: Any) -> tuple[dict | None, Any]:
    if ttl is None:
        return None, None
    minutes = ttl.get("ttl")
    if minutes is None:
        return ttl, None
    return ttl, clock.now() + timedelta(minutes=float(minutes))


def extract_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return None
    return value


class ThreadService:
    def __init__(
        self,
        storage: Storage,
        graphs: GraphRegistry,
        checkpointer: BaseCheckpointSaver,
        store: Any,
        bus: EventBus,
    ):
        self.storage = storage
        self.graphs = graphs
        self.checkpointer = checkpointer
        self.store = store
        self.bus = bus

    # ---------------------------------------------------------------- records
    async def create(self, body: dict, ctx: RequestContext) -> tuple[dict, str | None]:
        """Returns the thread, and a problem if the supersteps could not all be applied."""
        thread_id = body.get("thread_id") or uuid7()
        now = clock.now()
        ttl, expires_at = _expires_at(body.get("ttl"))
        record = {
            "thread_id": thread_id,
            "created_at": now,
            "updated_at": now,
            "state_updated_at": now,
            "metadata": body.get("metadata") or {},
            "status": "idle",
            "config": {},
            "values": None,
            "interrupts": None,
            "error": None,
            "ttl": ttl,
            "expires_at": expires_at,
        }
        async with self.storage.begin() as tx:
            existing = await tx.get_thread(thread_id)
            if existing is not None:
                if body.get("if_exists") == "do_nothing" and await tx.get_thread(
                    thread_id, ctx.filter_for("threads")
                ):
                    return shape(existing), None
                raise Conflict(f"Thread with ID {thread_id} already exists")
            await tx.insert_thread(record)
        if body.get("supersteps"):
            try:
                await self._apply_supersteps(record, body["supersteps"])
            except (BadRequest, InvalidUpdateError, ValueError, KeyError) as exc:
                detail = exc.detail if isinstance(exc, BadRequest) else str(exc)
                return (
                    shape(record),
                    f"Thread {thread_id} was created, but there were problems updating the state: {detail}",
                )
            record = await self._get_record(thread_id, None)
        return shape(record), None

    async def _apply_supersteps(self, record: dict, supersteps: list[dict]) -> None:
        entry = self._graph_of(record)
        config = {"configurable": {"thread_id": record["thread_id"], "checkpoint_ns": ""}}
        async with entry.open(config, checkpointer=self.checkpointer, store=self.store) as graph:
            steps = [
                [
                    StateUpdate(u.get("values"), u.get("as_node"), u.get("task_id"))
                    for u in step.get("updates", [])
                ]
                for step in supersteps
            ]
            await graph.abulk_update_state(config, steps)
            snapshot = await graph.aget_state(config)
        await self.record_state(record["thread_id"], snapshot)

    async def _get_record(self, thread_id: str, ctx: RequestContext | None) -> dict:
        async with self.storage.begin() as tx:
            record = await tx.get_thread(thread_id, ctx.filter_for("threads") if ctx else None)
        if record is None:
            raise NotFound(f"Thread with ID {thread_id} not found")
        return record

    async def get(self, thread_id: str, ctx: RequestContext) -> dict:
        return shape(await self._get_record(thread_id, ctx))

    async def patch(self, thread_id: str, body: dict, ctx: RequestContext) -> dict:
        async with self.storage.begin() as tx:
            record = await tx.get_thread(thread_id, ctx.filter_for("threads"))
            if record is None:
                raise NotFound(f"Thread with ID {thread_id} not found")
            changes: dict[str, Any] = {"updated_at": clock.now()}
            if body.get("metadata") is not None:
                changes["metadata"] = {**record["metadata"], **body["metadata"]}
            if body.get("ttl") is not None:
                changes["ttl"], changes["expires_at"] = _expires_at(body["ttl"])
            await tx.update_thread(thread_id, changes)
        return shape({**record, **changes})

    async def delete(self, thread_id: str, ctx: RequestContext) -> None:
        async with self.storage.begin() as tx:
            active = await tx.active_runs(thread_id)
            if not await tx.delete_thread(thread_id, ctx.filter_for("threads")):
                raise NotFound(f"Thread with ID {thread_id} not found")
        for run in active:
            await self.bus.request_cancel(run["run_id"], "delete")
        await self.checkpointer.adelete_thread(thread_id)

    async def search(self, body: dict, ctx: RequestContext) -> tuple[list[dict], bool]:
        ids = body.get("ids")
        if ids is not None:
            for i in ids:
                if not is_uuid(i):
                    raise BadRequest(f"Invalid thread ID {i}")
        limit, offset = body.get("limit", 10), body.get("offset", 0)
        async with self.storage.begin() as tx:
            rows = await tx.search_threads(
                ids=ids,
                metadata=body.get("metadata"),
                values=body.get("values"),
                status=body.get("status"),
                limit=limit + 1,
                offset=offset,
                sort_by=body.get("sort_by") or "created_at",
                sort_order=body.get("sort_order") or "desc",
                access=ctx.filter_for("threads"),
            )
        items = [shape(r) for r in rows[:limit]]
        if body.get("extract"):
            for item in items:
                item["extracted"] = {
                    alias: extract_path(item, path) for alias, path in body["extract"].items()
                }
        return items, len(rows) > limit

    async def count(self, body: dict, ctx: RequestContext) -> int:
        async with self.storage.begin() as tx:
            return await tx.count_threads(
                metadata=body.get("metadata"),
                values=body.get("values"),
                status=body.get("status"),
                access=ctx.filter_for("threads"),
            )

    async def copy(self, thread_id: str, ctx: RequestContext) -> dict:
        async with self.storage.begin() as tx:
            source = await tx.get_thread(thread_id, ctx.filter_for("threads"))
            if source is None:
                raise Conflict("Conflict")
            now = clock.now()
            record = {
                **source,
                "thread_id": uuid4(),
                "created_at": now,
                "updated_at": now,
                "state_updated_at": now,
                "status": "idle",
                "config": {},
            }
            await tx.insert_thread(record)
        await self.checkpointer.acopy_thread(thread_id, record["thread_id"])
        return shape(record)

    async def prune(self, body: dict, ctx: RequestContext) -> dict:
        strategy = body.get("strategy", "delete")
        pruned = 0
        for thread_id in body.get("thread_ids", []):
            if not is_uuid(thread_id):
                raise Invalid(f"Invalid thread ID: {thread_id}")
            if strategy == "delete":
                try:
                    await self.delete(thread_id, ctx)
                    pruned += 1
                except NotFound:
                    pass
            else:
                async with self.storage.begin() as tx:
                    if await tx.get_thread(thread_id, ctx.filter_for("threads")) is None:
                        continue
                await self.checkpointer.aprune([thread_id], strategy="keep_latest")
                pruned += 1
        return {"pruned_count": pruned}

    # ---------------------------------------------------------------- state
    def _graph_of(self, record: dict):
        graph_id = record["metadata"].get("graph_id")
        if not graph_id:
            raise BadRequest(
                f"Thread '{record['thread_id']}' has no assigned graph ID. This usually occurs when no runs "
                "have been made on this particular thread. Run a graph on the thread first, or create it with "
                "metadata.graph_id set."
            )
        if graph_id not in self.graphs:
            raise BadRequest(
                f"Thread '{record['thread_id']}' belongs to graph '{graph_id}', which is not loaded"
            )
        return self.graphs.get(graph_id)

    def _config(self, record: dict, checkpoint: dict | None = None) -> dict:
        configurable = {
            **(record.get("config") or {}).get("configurable", {}),
            "thread_id": record["thread_id"],
        }
        configurable.setdefault("checkpoint_ns", "")
        if checkpoint:
            configurable.update({k: v for k, v in checkpoint.items() if v is not None})
        return {"configurable": configurable}

    async def get_state(
        self,
        thread_id: str,
        ctx: RequestContext,
        *,
        checkpoint: dict | None = None,
        subgraphs: bool = False,
    ) -> dict:
        record = await self._get_record(thread_id, ctx)
        with_ns = checkpoint is None
        if not record["metadata"].get("graph_id"):
            return empty_state(
                {"checkpoint_id": checkpoint.get("checkpoint_id"), "thread_id": thread_id}
                if checkpoint
                else None
            )
        entry = self._graph_of(record)
        config = self._config(record, checkpoint)
        async with entry.open(config, checkpointer=self.checkpointer, store=self.store) as graph:
            snapshot = await graph.aget_state(config, subgraphs=subgraphs)
        if not snapshot.config or (
            checkpoint and not snapshot.values and not snapshot.next and snapshot.created_at is None
        ):
            ref = (
                {"checkpoint_id": checkpoint.get("checkpoint_id"), "thread_id": thread_id}
                if checkpoint
                else None
            )
            return empty_state(ref)
        return snapshot_view(snapshot, with_ns=with_ns)

    async def history(
        self,
        thread_id: str,
        ctx: RequestContext,
        *,
        limit: int = 1,
        before: Any = None,
        metadata: dict | None = None,
        checkpoint: dict | None = None,
    ) -> list[dict]:
        record = await self._get_record(thread_id, ctx)
        if not record["metadata"].get("graph_id"):
            return []
        entry = self._graph_of(record)
        config = self._config(record, checkpoint)
        before_config = None
        if isinstance(before, str):
            before_config = {"configurable": {"checkpoint_id": before}}
        elif isinstance(before, dict):
            before_config = before if "configurable" in before else {"configurable": before}
        out = []
        async with entry.open(config, checkpointer=self.checkpointer, store=self.store) as graph:
            async for snapshot in graph.aget_state_history(
                config, limit=limit, before=before_config, filter=metadata
            ):
                out.append(snapshot_view(snapshot))
        return out

    async def update_state(self, thread_id: str, body: dict, ctx: RequestContext) -> dict:
        record = await self._get_record(thread_id, ctx)
        entry = self._graph_of(record)
        checkpoint = body.get("checkpoint") or (
            {"checkpoint_id": body["checkpoint_id"]} if body.get("checkpoint_id") else None
        )
        config = self._config(record, checkpoint)
        async with entry.open(config, checkpointer=self.checkpointer, store=self.store) as graph:
            try:
                next_config = await graph.aupdate_state(
                    config, body.get("values"), as_node=body.get("as_node")
                )
            except InvalidUpdateError as exc:
                raise BadRequest(str(exc).split("\n")[0]) from exc
            snapshot = await graph.aget_state(self._config(record))
        await self.record_state(thread_id, snapshot, keep_busy=True)
        state = snapshot_view(snapshot)
        if await self.bus.has_channel(thread_channel(thread_id)):
            await self.bus.publish(
                thread_channel(thread_id),
                "state_update",
                serde.dumps({"state": state, "thread_id": thread_id}),
            )
        conf = next_config["configurable"]
        return {
            "checkpoint": {
                "thread_id": conf["thread_id"],
                "checkpoint_ns": conf.get("checkpoint_ns", ""),
                "checkpoint_id": conf["checkpoint_id"],
            },
            "configurable": {
                "thread_id": conf["thread_id"],
                "checkpoint_ns": conf.get("checkpoint_ns", ""),
                "checkpoint_id": conf["checkpoint_id"],
            },
            "checkpoint_id": conf["checkpoint_id"],
        }

    async def record_state(
        self,
        thread_id: str,
        snapshot,
        *,
        keep_busy: bool = False,
        error: dict | None = None,
        status: str | None = None,
        extra: dict | None = None,
    ) -> None:
        """Mirror the latest checkpoint into the thread record: values, interrupts, status."""
        now = clock.now()
        values = {
            "values": serde.to_jsonable(snapshot.values) if snapshot and snapshot.config else None,
            "interrupts": thread_interrupts(snapshot) if snapshot else {},
            "error": error,
            "updated_at": now,
            "state_updated_at": now,
            **(extra or {}),
        }
        async with self.storage.begin() as tx:
            current = await tx.get_thread(thread_id)
            if current is None:
                return
            if status is None:
                status = (
                    "busy" if keep_busy and current["status"] == "busy" else thread_status(snapshot)
                )
            values["status"] = status
            await tx.update_thread(thread_id, values)
