"""A thread's checkpointed state in the API's ThreadState shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.types import StateSnapshot

from graphdock.server.serde import to_jsonable
from graphdock.server.services.errors import Invalid
from graphdock.server.services.ids import canonical_uuid

# The keys that address a checkpoint within a thread. A client's checkpoint reference is
# narrowed to these: the thread is always the one the request's path names.
CHECKPOINT_ADDRESS_KEYS = ("checkpoint_ns", "checkpoint_id", "checkpoint_map")


def checkpoint_address(value: Any, thread_id: str, field: str = "checkpoint") -> dict | None:
    """A checkpoint reference from a request body, on the thread `thread_id` only.

    Clients echo whole checkpoint dicts back (`thread_id` included), so a `thread_id` equal
    to the path's is accepted; another thread's is refused. Merging the reference into a
    run's config as it came would let it read and write that other thread, whoever owns it.
    """
    if not value:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"Invalid {field}: expected an object")
    other = value.get("thread_id")
    if other is not None and canonical_uuid(str(other)) != thread_id:
        raise Invalid(
            f"Invalid {field}: its thread_id ({other}) is not this thread ({thread_id}); "
            "a checkpoint can only be used on the thread it belongs to"
        )
    address = {k: value[k] for k in CHECKPOINT_ADDRESS_KEYS if value.get(k) is not None}
    for key, item in address.items():
        if isinstance(item, str) and "\x00" in item:
            raise Invalid(f"Invalid {field}.{key}: it must not contain NUL characters")
    return address


def interrupt_view(interrupt: Any) -> dict:
    """Interrupts as a thread shows them: id and value (streams add response_schema)."""
    data = to_jsonable(interrupt)
    if isinstance(data, dict):
        return {"id": data.get("id"), "value": data.get("value")}
    return {"id": None, "value": data}


def checkpoint_ref(config: Mapping[str, Any] | None) -> dict | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    ref = {"checkpoint_id": conf.get("checkpoint_id"), "thread_id": conf.get("thread_id")}
    ref["checkpoint_ns"] = conf.get("checkpoint_ns", "")
    if conf.get("checkpoint_map"):
        ref["checkpoint_map"] = conf["checkpoint_map"]
    return ref


def snapshot_view(snapshot: StateSnapshot) -> dict:
    tasks = []
    for task in snapshot.tasks:
        state, checkpoint = None, None
        if isinstance(task.state, StateSnapshot):
            state = snapshot_view(task.state)
        elif isinstance(task.state, dict):
            checkpoint = task.state.get("configurable")
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": to_jsonable(task.path),
                "error": _error_view(task.error),
                "interrupts": [interrupt_view(i) for i in task.interrupts],
                "checkpoint": checkpoint,
                "state": state,
                "result": to_jsonable(task.result) if task.result is not None else None,
            }
        )
    checkpoint = checkpoint_ref(snapshot.config)
    parent = checkpoint_ref(snapshot.parent_config)
    return {
        "values": to_jsonable(snapshot.values),
        "next": list(snapshot.next),
        "tasks": tasks,
        "metadata": to_jsonable(snapshot.metadata),
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [interrupt_view(i) for i in snapshot.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def requested_ref(thread_id: str, requested: dict) -> dict:
    """The checkpoint object of a state read at a given checkpoint: what was asked for.

    The reference echoes the requested config here (so no `checkpoint_ns` unless the
    client sent one), while `parent_checkpoint` keeps the stored, complete form.
    """
    ref = {"checkpoint_id": requested.get("checkpoint_id"), "thread_id": thread_id}
    for key in ("checkpoint_ns", "checkpoint_map"):
        if requested.get(key) is not None:
            ref[key] = requested[key]
    return ref


def empty_state(checkpoint: dict | None = None) -> dict:
    """A thread with no checkpoint (or an unknown one): empty, echoing what was asked."""
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": checkpoint,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": None,
    }


def _error_view(error: Any) -> Any:
    if error is None:
        return None
    if isinstance(error, BaseException):
        return {"error": type(error).__name__, "message": str(error)}
    return to_jsonable(error)


def thread_interrupts(snapshot: StateSnapshot) -> dict[str, list[dict]]:
    """`{task_id: [interrupt, ...]}` for the thread record, subgraph interrupts included."""
    out: dict[str, list[dict]] = {}
    for task in snapshot.tasks:
        if task.interrupts:
            out[task.id] = [interrupt_view(i) for i in task.interrupts]
    return out


def thread_status(snapshot: StateSnapshot | None) -> str:
    return "interrupted" if snapshot is not None and snapshot.next else "idle"
