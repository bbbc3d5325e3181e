"""The v3 thread protocol's commands, in the domain's terms.

Commands that start a run (`run.start`, `input.respond`, `state.fork`) are turned into the
run fields the classic API's runs take, so they go through the same authorization and
`RunService.create` as every other run; the others read or change the thread directly.
Every failure is a `CommandError` with one of the protocol's error codes.
"""

from __future__ import annotations

from typing import Any

from graphdock.server.ports.bus import EventBus
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import NotFound
from graphdock.server.services.runs import ACTIVE, RunService
from graphdock.server.services.threads import ThreadService

RUN_START_FIELDS = {"assistant_id", "input", "command", "config", "context", "metadata"}
RESPOND_FIELDS = {
    "namespace",
    "interrupt_id",
    "response",
    "responses",
    "update",
    "goto",
    "config",
    "metadata",
}
COMMANDS = (
    "run.start",
    "run.cancel",  # graphdock's: cancel the thread's run without leaving the protocol
    "input.respond",
    "input.inject",
    "agent.getTree",
    "state.get",
    "state.listCheckpoints",
    "state.fork",
    "subscription.subscribe",
    "subscription.unsubscribe",
    "subscription.reconnect",
)


class CommandError(Exception):
    """A command the protocol answers with an error response."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _known(params: dict, allowed: set[str], method: str) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise CommandError(
            "invalid_argument",
            f"{method} does not take {', '.join(unknown)}; it takes {', '.join(sorted(allowed))}",
        )


def _mapping(params: dict, key: str, method: str) -> dict | None:
    value = params.get(key)
    if value is not None and not isinstance(value, dict):
        raise CommandError("invalid_argument", f"{method}: {key} must be an object")
    return value


def _namespace(value: Any, method: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise CommandError("invalid_argument", f"{method}: namespace must be a list of strings")
    return value


class ThreadStreamService:
    def __init__(self, runs: RunService, threads: ThreadService, bus: EventBus):
        self.runs = runs
        self.threads = threads
        self.bus = bus

    # ---------------------------------------------------------------- runs
    def start_fields(self, params: dict) -> dict:
        """`run.start`: a run of `assistant_id` on the thread (made if it does not exist).
        On a thread waiting at an interrupt, `input` answers it (decided when the run
        starts, after the thread's earlier runs)."""
        _known(params, RUN_START_FIELDS, "run.start")
        assistant_id = params.get("assistant_id")
        if not isinstance(assistant_id, str) or not assistant_id:
            raise CommandError("invalid_argument", "run.start requires an assistant_id")
        fields: dict[str, Any] = {
            "assistant_id": assistant_id,
            "input": params.get("input"),
            "if_not_exists": "create",
            "protocol": "v3",
        }
        for key in ("config", "context", "metadata", "command"):
            if _mapping(params, key, "run.start") is not None:
                fields[key] = params[key]
        if "command" not in fields:
            fields["resume_if_interrupted"] = True
        return fields

    async def respond_fields(self, thread_id: str, params: dict) -> tuple[dict, list[str]]:
        """`input.respond`: one run that resumes the given interrupts (by id) with their
        responses, with the `update` / `goto` applied in the same step. Returns the run
        fields and the interrupt ids (checked by `check_interrupts` once authorized)."""
        _known(params, RESPOND_FIELDS, "input.respond")
        if "responses" in params:
            entries = params["responses"]
            if not isinstance(entries, list) or not entries:
                raise CommandError(
                    "invalid_argument", "input.respond: responses must be a non-empty list"
                )
            for entry in entries:
                if not isinstance(entry, dict):
                    raise CommandError(
                        "invalid_argument", "input.respond: each response must be an object"
                    )
                _known(entry, {"namespace", "interrupt_id", "response"}, "input.respond")
        else:
            entries = [params]
        resume: dict[str, Any] = {}
        for entry in entries:
            interrupt_id = entry.get("interrupt_id")
            if not isinstance(interrupt_id, str) or not interrupt_id:
                raise CommandError("invalid_argument", "input.respond requires an interrupt_id")
            _namespace(entry.get("namespace"), "input.respond")
            resume[interrupt_id] = entry.get("response")
        command: dict[str, Any] = {"resume": resume}
        if _mapping(params, "update", "input.respond") is not None:
            command["update"] = params["update"]
        if params.get("goto") is not None:
            command["goto"] = params["goto"]
        async with self.runs.storage.begin() as tx:  # the thread's assistant, for the handler
            record = await tx.get_thread(thread_id)
        assistant_id = record["metadata"].get("assistant_id") if record is not None else None
        if not assistant_id:
            raise CommandError("no_such_interrupt", "The thread has no interrupted run to resume")
        fields: dict[str, Any] = {
            "assistant_id": assistant_id,
            "command": command,
            "protocol": "v3",
        }
        for key in ("config", "metadata"):
            if _mapping(params, key, "input.respond") is not None:
                fields[key] = params[key]
        return fields, list(resume)

    async def check_interrupts(self, thread_id: str, ids: list[str], ctx: RequestContext) -> None:
        """The interrupts must be the thread's pending ones, unless a run is still going
        (the answer then waits behind it, as runs on a thread take turns)."""
        try:
            thread = await self.threads.get(thread_id, ctx)
        except NotFound as exc:
            raise CommandError("no_such_interrupt", f"Thread {thread_id} not found") from exc
        if thread["status"] == "busy":
            return
        pending = {
            i.get("id") for items in (thread.get("interrupts") or {}).values() for i in items
        }
        missing = [i for i in ids if i not in pending]
        if missing:
            raise CommandError(
                "no_such_interrupt",
                f"Unknown or already answered interrupt: {', '.join(missing)}",
            )

    def fork_fields(self, params: dict) -> dict:
        _known(params, {"checkpoint_id", "input", "config"}, "state.fork")
        checkpoint_id = params.get("checkpoint_id")
        if not isinstance(checkpoint_id, str) or not checkpoint_id:
            raise CommandError("invalid_argument", "state.fork requires a checkpoint_id")
        fields: dict[str, Any] = {
            "checkpoint_id": checkpoint_id,
            "input": params.get("input"),
            "protocol": "v3",
        }
        if _mapping(params, "config", "state.fork") is not None:
            fields["config"] = params["config"]
        return fields

    async def fork_assistant(self, thread_id: str, ctx: RequestContext) -> str:
        thread = await self._thread(thread_id, ctx)
        assistant_id = thread["metadata"].get("assistant_id")
        if not assistant_id:
            raise CommandError("no_such_checkpoint", "The thread has no checkpoints to fork")
        return assistant_id

    async def cancel(self, thread_id: str, params: dict, ctx: RequestContext) -> dict:
        _known(params, {"run_id", "action"}, "run.cancel")
        action = params.get("action") or "interrupt"
        if action not in ("interrupt", "rollback"):
            raise CommandError("invalid_argument", "run.cancel: action is interrupt or rollback")
        await self._thread(thread_id, ctx)
        run_id = params.get("run_id")
        runs = await self.runs.list(thread_id, ctx, limit=100, offset=0, status=None)
        targets = [
            r for r in runs if r["status"] in ACTIVE and (run_id is None or r["run_id"] == run_id)
        ]
        if not targets:
            raise CommandError("no_such_run", "No pending or running run to cancel on this thread")
        for run in targets:
            await self.runs.cancel(thread_id, run["run_id"], ctx, action=action)
        return {"run_ids": [r["run_id"] for r in targets]}

    # ---------------------------------------------------------------- reads
    async def _thread(self, thread_id: str, ctx: RequestContext) -> dict:
        try:
            return await self.threads.get(thread_id, ctx)
        except NotFound as exc:
            raise CommandError("invalid_argument", f"Thread {thread_id} not found") from exc

    async def state_get(self, thread_id: str, params: dict, ctx: RequestContext) -> dict:
        _known(params, {"namespace", "keys"}, "state.get")
        if _namespace(params.get("namespace"), "state.get"):
            raise CommandError("no_such_namespace", "state.get reads the root graph's state only")
        keys = params.get("keys")
        if keys is not None and (
            not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
        ):
            raise CommandError("invalid_argument", "state.get: keys must be a list of strings")
        await self._thread(thread_id, ctx)
        state = await self.threads.get_state(thread_id, ctx)
        values = state.get("values") or {}
        if keys is not None and isinstance(values, dict):
            values = {k: v for k, v in values.items() if k in keys}
        result: dict[str, Any] = {"values": values}
        checkpoint = state.get("checkpoint") or {}
        if checkpoint.get("checkpoint_id"):
            result["checkpoint"] = {
                "id": checkpoint["checkpoint_id"],
                "ns": checkpoint.get("checkpoint_ns", ""),
            }
        return result

    async def list_checkpoints(self, thread_id: str, params: dict, ctx: RequestContext) -> dict:
        _known(params, {"namespace", "limit", "before"}, "state.listCheckpoints")
        if _namespace(params.get("namespace"), "state.listCheckpoints"):
            raise CommandError(
                "no_such_namespace", "state.listCheckpoints lists the root graph's checkpoints"
            )
        limit = params.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise CommandError("invalid_argument", "state.listCheckpoints: limit is 1 to 1000")
        before = params.get("before")
        if before is not None and not isinstance(before, str):
            raise CommandError(
                "invalid_argument", "state.listCheckpoints: before is a checkpoint id"
            )
        await self._thread(thread_id, ctx)
        history = await self.threads.history(thread_id, ctx, limit=limit, before=before)
        checkpoints = []
        for item in history:
            metadata = item.get("metadata") or {}
            summary: dict[str, Any] = {
                "id": item["checkpoint"]["checkpoint_id"],
                "timestamp": item.get("created_at"),
                "step": metadata.get("step"),
                "metadata": metadata,
            }
            writes = metadata.get("writes")
            if isinstance(writes, dict) and len(writes) == 1:
                summary["node_name"] = next(iter(writes))
            checkpoints.append(summary)
        return {"checkpoints": checkpoints}

    async def tree(self, thread_id: str, params: dict, ctx: RequestContext) -> dict:
        _known(params, {"run_id"}, "agent.getTree")
        thread = await self._thread(thread_id, ctx)
        status = {"busy": "running", "interrupted": "interrupted", "error": "failed"}.get(
            thread["status"], "completed"
        )
        graph_name = thread["metadata"].get("graph_id") or ""
        return {
            "tree": {"namespace": [], "status": status, "graph_name": graph_name, "children": []}
        }

    async def applied_through(self, thread_id: str) -> int:
        return await self.bus.thread_seq(thread_id)
