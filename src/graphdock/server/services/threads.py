"""Threads: conversations with durable, checkpointed state and history."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, Send, StateUpdate

from graphdock.server import serde
from graphdock.server.ports.bus import EventBus, thread_channel
from graphdock.server.ports.errors import Unavailable
from graphdock.server.ports.records import Json, ThreadRecord
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Conflict, Invalid, NotFound
from graphdock.server.services.graphs import AccessContext, GraphAccess, GraphEntry, GraphRegistry
from graphdock.server.services.ids import is_uuid, uuid4, uuid7
from graphdock.server.services.sorting import sort_of
from graphdock.server.services.state import (
    checkpoint_address,
    empty_state,
    requested_ref,
    snapshot_view,
    thread_interrupts,
    thread_status,
)

log = logging.getLogger("graphdock.threads")

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


def shape(record: Mapping[str, Any]) -> Json:
    """The API's view of a thread record (or of one with edits applied)."""
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


EXTRACT_ROOTS = ("config", "interrupts", "metadata", "values")
_SEGMENT = re.compile(r"^(?P<key>[^\[\]]*)(?:\[(?P<index>[^\[\]]*)\])?$")


def check_extract(extract: dict[str, str]) -> None:
    """Extract paths read a thread's JSON fields only; anything else is the client's typo."""
    for alias, path in extract.items():
        if not path:
            raise Invalid(f"Extract path for '{alias}' must be a non-empty string")
        if re.split(r"[.\[]", path, maxsplit=1)[0] not in EXTRACT_ROOTS:
            raise Invalid(
                f"Extract path '{path}' must start with one of: {', '.join(EXTRACT_ROOTS)}"
            )


def extract_path(value: Any, path: str) -> Any:
    """`values.messages[-1].content`: dot-separated keys, each with an optional list index.

    As in the reference, a bare number is a key (not an index), empty segments are
    skipped, and any miss (absent key, bad index, wrong type) yields None.
    """
    for segment in path.split("."):
        if not segment:
            continue
        match = _SEGMENT.match(segment)
        if match is None:
            return None
        if match["key"]:
            if not isinstance(value, dict):
                return None
            value = value.get(match["key"])
        if match["index"] is not None:
            value = _index(value, match["index"])
    return value


def _index(value: Any, index: str) -> Any:
    try:
        position = int(index)
    except ValueError:
        return None
    if isinstance(value, list) and -len(value) <= position < len(value):
        return value[position]
    return None


class SuperstepProblem(Exception):
    """The thread was made, but its supersteps could not all be applied."""


class ThreadService:
    def __init__(
        self,
        storage: Storage,
        graphs: GraphRegistry,
        checkpointer: BaseCheckpointSaver,
        store: Any,
        bus: EventBus,
        default_ttl: float | None = None,
    ):
        self.default_ttl = default_ttl  # minutes, from checkpointer.ttl.default_ttl
        self.storage = storage
        self.graphs = graphs
        self.checkpointer = checkpointer
        self.store = store
        self.bus = bus

    # ---------------------------------------------------------------- records
    async def create(self, body: dict, ctx: RequestContext) -> tuple[dict, str | None]:
        """Returns the thread, and a problem if the supersteps could not all be applied.

        As in the reference, a thread whose graph is missing or unknown is still created
        and the problem is reported (the route answers 201); a superstep the graph refuses
        (unknown node, invalid update) is a 400.
        """
        thread_id = body.get("thread_id") or uuid7()
        now = clock.now()
        requested = body.get("ttl")
        if requested is None and self.default_ttl is not None:
            requested = {"strategy": "delete", "ttl": self.default_ttl}
        ttl, expires_at = _expires_at(requested)
        record: ThreadRecord = {
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
        if not body.get("supersteps"):
            return shape(record), None
        try:
            await self._apply_supersteps(record, body["supersteps"], ctx)
        except SuperstepProblem as exc:
            return shape(record), (
                f"Thread {thread_id} was created, but there were problems updating the state: {exc}"
            )
        return shape(await self._get_record(thread_id, None)), None

    async def _apply_supersteps(
        self, record: ThreadRecord, supersteps: list[dict], ctx: RequestContext
    ) -> None:
        try:
            entry = self._graph_of(record)
        except BadRequest as exc:
            raise SuperstepProblem(exc.detail) from exc
        config = self._config(record)
        async with self._open(entry, config, "threads.update", ctx) as graph:
            try:
                steps = [[_state_update(u) for u in step.get("updates", [])] for step in supersteps]
            except (KeyError, TypeError, ValueError) as exc:
                raise Invalid(f"Invalid superstep command: {exc!r}") from exc
            try:
                await graph.abulk_update_state(config, steps)
            except Unavailable:
                raise  # the database is out of reach: not the client's doing
            except Exception as exc:  # the graph refused the update: the client's to fix
                raise BadRequest(_update_error(exc)) from exc
            snapshot = await graph.aget_state(config)
        await self.record_state(record["thread_id"], snapshot)

    async def _get_record(self, thread_id: str, ctx: RequestContext | None) -> ThreadRecord:
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
                raise NotFound("Not Found")  # the reference's wording for PATCH
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
        if body.get("extract"):
            check_extract(body["extract"])
        limit, offset = body.get("limit", 10), body.get("offset", 0)
        async with self.storage.begin() as tx:
            rows = await tx.search_threads(
                ids=ids,
                metadata=body.get("metadata"),
                values=body.get("values"),
                status=body.get("status"),
                limit=limit + 1,
                offset=offset,
                **sort_of(body, default="updated_at"),
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
                raise NotFound(f"Thread with ID {thread_id} not found")
            now = clock.now()
            # The copy carries the source's state (values, interrupts, error) and status;
            # only a run in progress stays behind, so a busy source gives an idle copy.
            record: ThreadRecord = {
                **source,
                "thread_id": uuid4(),
                "created_at": now,
                "updated_at": now,
                "state_updated_at": now,
                "status": "idle" if source["status"] == "busy" else source["status"],
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
                raise Invalid("Invalid thread ID: must be a UUID")
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
    def _graph_of(self, record: ThreadRecord):
        graph_id = record["metadata"].get("graph_id")
        if not graph_id:
            raise BadRequest(
                f"Thread '{record['thread_id']}' has no assigned graph ID. This usually occurs when no runs "
                "have been made on this particular thread. This operation requires a graph ID. Please ensure "
                "a run has been made for the thread or manually update the thread metadata (by setting the "
                "'graph_id' field) before running this operation."
            )
        if graph_id not in self.graphs:
            raise BadRequest(
                f"Graph '{graph_id}' not found. Expected one of: {sorted(self.graphs.ids)}"
            )
        return self.graphs.get(graph_id)

    def _open(self, entry: GraphEntry, config: dict, why: AccessContext, ctx: RequestContext):
        """The thread's graph, built for `why` on behalf of the request's user."""
        return entry.open(
            config,
            checkpointer=self.checkpointer,
            store=self.store,
            access=GraphAccess.of(why, ctx.user),
        )

    def _config(self, record: ThreadRecord, checkpoint: dict | None = None) -> dict:
        """The graph config addressing this thread (at `checkpoint` if given).

        `metadata.graph_id` lands in the metadata of checkpoints written through the API
        (update_state, supersteps), as it does in the reference's.
        """
        configurable = {
            **(record.get("config") or {}).get("configurable", {}),
            "thread_id": record["thread_id"],
        }
        configurable.setdefault("checkpoint_ns", "")
        configurable.update(checkpoint_address(checkpoint, record["thread_id"]) or {})
        config: dict[str, Any] = {"configurable": configurable}
        if record["metadata"].get("graph_id"):
            config["metadata"] = {"graph_id": record["metadata"]["graph_id"]}
        return config

    async def get_state(
        self,
        thread_id: str,
        ctx: RequestContext,
        *,
        checkpoint: dict | None = None,
        subgraphs: bool = False,
    ) -> dict:
        """The latest state, or the state at `checkpoint` (an unknown one reads as empty)."""
        record = await self._get_record(thread_id, ctx)
        requested = checkpoint if checkpoint and checkpoint.get("checkpoint_id") else None
        echo = requested_ref(thread_id, requested) if requested else None
        if not record["metadata"].get("graph_id"):
            return empty_state(echo)
        entry = self._graph_of(record)
        config = self._config(record, checkpoint)
        async with self._open(entry, config, "threads.read", ctx) as graph:
            snapshot = await graph.aget_state(config, subgraphs=subgraphs)
        if not snapshot.config or snapshot.created_at is None:
            return empty_state(echo)
        view = snapshot_view(snapshot)
        if echo is not None:
            view["checkpoint"] = echo
        return view

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
        before_config = before_config_of(before, thread_id)
        out = []
        async with self._open(entry, config, "threads.read", ctx) as graph:
            try:
                async for snapshot in graph.aget_state_history(
                    config, limit=limit, before=before_config, filter=metadata
                ):
                    out.append(snapshot_view(snapshot))
            except ValueError as exc:  # e.g. a metadata filter key the checkpointer refuses
                raise BadRequest(str(exc)) from exc
        return out

    async def update_state(self, thread_id: str, body: dict, ctx: RequestContext) -> dict:
        record = await self._get_record(thread_id, ctx)
        entry = self._graph_of(record)
        checkpoint = body.get("checkpoint") or (
            {"checkpoint_id": body["checkpoint_id"]} if body.get("checkpoint_id") else None
        )
        config = self._config(record, checkpoint)
        async with self._open(entry, config, "threads.update", ctx) as graph:
            try:
                next_config = await graph.aupdate_state(
                    config, body.get("values"), as_node=body.get("as_node")
                )
            except Unavailable:
                raise  # the database is out of reach: not the client's doing
            except Exception as exc:  # the graph refused the update: the client's to fix
                raise BadRequest(_update_error(exc)) from exc
            snapshot = await graph.aget_state(self._config(record))
        await self.record_state(thread_id, snapshot, keep_busy=True)
        state = snapshot_view(snapshot)
        try:  # the update is made: its followers not hearing of it is no reason to fail it
            if await self.bus.has_channel(thread_channel(thread_id)):
                await self.bus.publish(
                    thread_channel(thread_id),
                    "state_update",
                    serde.dumps({"state": state, "thread_id": thread_id}),
                )
        except Unavailable as exc:
            log.warning("thread %s: state update not announced: %s", thread_id, exc.detail)
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


def before_config_of(before: Any, thread_id: str) -> dict | None:
    """`before` as a checkpoint id, a checkpoint dict, or a config `{"configurable": ...}`,
    on this thread only."""
    if not before:
        return None
    if isinstance(before, str):
        before = {"checkpoint_id": before}
    elif isinstance(before.get("configurable"), dict):
        before = before["configurable"]
    address = checkpoint_address(before, thread_id, "before")
    return {"configurable": {"thread_id": thread_id, **(address or {})}}


def _state_update(update: dict) -> StateUpdate:
    """One superstep update; a `command` (e.g. a resume) stands in for plain values."""
    values = update.get("values")
    if update.get("command"):
        values = command_of(update["command"])
    return StateUpdate(values, update.get("as_node"), update.get("task_id"))


def command_of(spec: dict) -> Command:
    """A Command from its JSON form: `goto` items given as `{"node", "input"}` become Sends."""
    goto = spec.get("goto")
    if goto is not None:
        goto = [_send_of(g) for g in goto] if isinstance(goto, list) else _send_of(goto)
    return Command(update=spec.get("update"), resume=spec.get("resume"), goto=goto or ())


def _send_of(target: Any) -> Any:
    if isinstance(target, dict):
        return Send(target["node"], target.get("input"))
    return target


def _update_error(exc: BaseException) -> str:
    """The graph's own message (a KeyError's str() would add quotes)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc)
