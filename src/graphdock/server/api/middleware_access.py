"""Which auth handler each route calls, with what value, and where its filter goes.

The (resource, action) pairs and values are the ones the official server uses, so an
`auth.py` written for it works unchanged: runs are the `threads` resource (`create_run`,
`read`, `update` for cancel, `delete`, `search` for listing); counting is `search`;
copying a thread reads the source and creates the copy; a run or cron on a non-system
assistant must pass the assistant's `read` filter; store handlers may rewrite the
namespace.

What a handler changes in its value is written back into the request body (or, for
`GET /store/items`, the query string) before the route reads it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import orjson

from graphdock.server.api.auth import AuthUser, matches
from graphdock.server.api.errors import ApiError
from graphdock.server.services.context import RequestContext
from graphdock.server.services.graphs import system_assistant_id
from graphdock.server.services.ids import canonical_uuid

if TYPE_CHECKING:
    from graphdock.server.api.middleware import Gateway

_MISSING = object()


class Call:
    """One request on its way through the auth handlers."""

    def __init__(
        self,
        gateway: Gateway,
        scope: dict,
        user: AuthUser | None,
        ctx: RequestContext,
        body: Any,
        path_params: dict,
    ):
        self.gateway = gateway
        self.scope = scope
        self.user = user
        self.ctx = ctx
        self.body = body
        self.path_params = path_params
        self.body_changed = False
        self._query: dict[str, str] | None = None

    # ------------------------------------------------------------ inputs
    def fields(self) -> dict:
        return self.body if isinstance(self.body, dict) else {}

    def param(self, name: str) -> str | None:
        return self.path_params.get(name)

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))
        return self._query

    def set_query(self, **values: str) -> None:
        pairs = [
            (k, v)
            for k, v in parse_qsl(
                self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            if k not in values
        ]
        pairs += list(values.items())
        self.scope["query_string"] = urlencode(pairs).encode("latin-1")
        self._query = None

    # ------------------------------------------------------------ handlers
    async def authorize(self, resource: str, action: str, value: dict) -> dict | None:
        return await self.gateway.security.authorize(self.user, resource, action, value)

    async def guard(
        self,
        resource: str,
        action: str,
        value: dict,
        *,
        access: str | None = None,
        writable: tuple[str, ...] = (),
        target: dict | None = None,
    ) -> dict | None:
        """Call the handler; write back what it changed among `writable` into `target`
        (the body by default); put its filter into ctx.access[access] (default: resource)."""
        if target is None:
            target = self.body if isinstance(self.body, dict) else None
        before = {k: _snapshot(value.get(k, _MISSING)) for k in writable}
        flt = await self.authorize(resource, action, value)
        if target is not None:
            for key in writable:
                new = value.get(key, _MISSING)
                if new is _MISSING:
                    continue
                if key in target or _snapshot(new) != before[key]:
                    target[key] = list(new) if isinstance(new, tuple) else new
                    self.body_changed = True
        if access is not None or flt is not None:
            self.ctx.access[access or resource] = flt
        return flt

    async def check_assistant(self, requested: Any, missing: str) -> None:
        """A run or cron on a user-made assistant needs that assistant's read filter to
        pass (system assistants, one per graph, are everyone's), as in the reference."""
        if not isinstance(requested, str):
            return
        assistant_id = canonical_uuid(requested)
        services = self.gateway.services
        if assistant_id is None:
            return  # a graph name (its system assistant) or garbage the route refuses
        if assistant_id in services.graphs.system_assistant_ids():
            return
        async with services.storage.begin() as tx:
            record = await tx.get_assistant(assistant_id)
        if record is None or (record.get("metadata") or {}).get("created_by") == "system":
            return
        flt = await self.authorize("assistants", "read", {"assistant_id": assistant_id})
        if flt and not matches(record.get("metadata"), flt):
            raise ApiError(404, missing)


def _snapshot(value: Any) -> bytes | None:
    if value is _MISSING:
        return None
    try:
        return orjson.dumps(value, default=str)
    except TypeError:
        return None


def _metadata(fields: dict) -> dict:
    meta = fields.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _pick(fields: dict, *keys: str) -> dict:
    return {k: fields[k] for k in keys if k in fields}


Plan = Callable[[Call], Awaitable[None]]
PLANS: dict[tuple[str, str], Plan] = {}


def plan(*routes: str):
    def register(fn: Plan) -> Plan:
        for route in routes:
            method, path = route.split(" ", 1)
            PLANS[(method, path)] = fn
        return fn

    return register


# ---------------------------------------------------------------- assistants
@plan("POST /assistants")
async def _assistant_create(c: Call) -> None:
    f = c.fields()
    value = {
        **_pick(
            f, "assistant_id", "graph_id", "config", "context", "if_exists", "name", "description"
        ),
        "metadata": _metadata(f),
    }
    await c.guard(
        "assistants",
        "create",
        value,
        writable=("metadata", "config", "context", "name", "graph_id", "description"),
    )


@plan("POST /assistants/search", "POST /assistants/count")
async def _assistant_search(c: Call) -> None:
    f = c.fields()
    value = {
        "graph_id": f.get("graph_id"),
        "metadata": _metadata(f),
        "limit": f.get("limit", 10),
        "offset": f.get("offset", 0),
    }
    await c.guard("assistants", "search", value, writable=("metadata", "graph_id"))


@plan(
    "GET /assistants/{assistant_id}",
    "GET /assistants/{assistant_id}/graph",
    "GET /assistants/{assistant_id}/schemas",
    "GET /assistants/{assistant_id}/subgraphs",
    "GET /assistants/{assistant_id}/subgraphs/{namespace}",
    "POST /assistants/{assistant_id}/versions",
)
async def _assistant_read(c: Call) -> None:
    await c.guard("assistants", "read", {"assistant_id": c.param("assistant_id")})


@plan("PATCH /assistants/{assistant_id}")
async def _assistant_update(c: Call) -> None:
    f = c.fields()
    value = {
        "assistant_id": c.param("assistant_id"),
        **_pick(f, "graph_id", "config", "context", "name", "description"),
        "metadata": _metadata(f),
    }
    await c.guard(
        "assistants",
        "update",
        value,
        writable=("metadata", "config", "context", "name", "graph_id", "description"),
    )


@plan("POST /assistants/{assistant_id}/latest")
async def _assistant_latest(c: Call) -> None:
    value = {"assistant_id": c.param("assistant_id"), "version": c.fields().get("version")}
    await c.guard("assistants", "update", value)


@plan("DELETE /assistants/{assistant_id}")
async def _assistant_delete(c: Call) -> None:
    await c.guard("assistants", "delete", {"assistant_id": c.param("assistant_id")})
    if c.query.get("delete_threads", "").lower() == "true":
        # the threads it takes along must be the caller's to delete
        await c.guard("threads", "delete", {}, access="threads")


# ---------------------------------------------------------------- threads
@plan("POST /threads")
async def _thread_create(c: Call) -> None:
    f = c.fields()
    value = {**_pick(f, "thread_id", "if_exists", "ttl"), "metadata": _metadata(f)}
    await c.guard("threads", "create", value, writable=("metadata", "ttl"))


@plan("POST /threads/search", "POST /threads/count")
async def _thread_search(c: Call) -> None:
    f = c.fields()
    value = {
        "metadata": _metadata(f),
        "values": f.get("values") or {},
        "status": f.get("status"),
        "limit": f.get("limit", 10),
        "offset": f.get("offset", 0),
        "ids": f.get("ids"),
    }
    await c.guard("threads", "search", value, writable=("metadata", "values", "status"))


@plan("POST /threads/prune")
async def _thread_prune(c: Call) -> None:
    await c.guard(
        "threads", "delete", {"thread_ids": c.fields().get("thread_ids") or []}, access="threads"
    )


@plan(
    "GET /threads/{thread_id}",
    "GET /threads/{thread_id}/state",
    "GET /threads/{thread_id}/state/{checkpoint_id}",
    "POST /threads/{thread_id}/state/checkpoint",
    "GET /threads/{thread_id}/history",
    "POST /threads/{thread_id}/history",
    "GET /threads/{thread_id}/stream",
)
async def _thread_read(c: Call) -> None:
    await c.guard("threads", "read", {"thread_id": c.param("thread_id")})


@plan("PATCH /threads/{thread_id}")
async def _thread_update(c: Call) -> None:
    f = c.fields()
    value = {"thread_id": c.param("thread_id"), "metadata": _metadata(f)}
    await c.guard("threads", "update", value, writable=("metadata",))


@plan("POST /threads/{thread_id}/state")
async def _thread_update_state(c: Call) -> None:
    await c.guard("threads", "update", {"thread_id": c.param("thread_id")})


@plan("DELETE /threads/{thread_id}")
async def _thread_delete(c: Call) -> None:
    await c.guard("threads", "delete", {"thread_id": c.param("thread_id")})


@plan("POST /threads/{thread_id}/copy")
async def _thread_copy(c: Call) -> None:
    await c.guard("threads", "read", {"thread_id": c.param("thread_id")})
    await c.authorize("threads", "create", {"thread_id": None, "metadata": {}})


# ---------------------------------------------------------------- runs (the threads resource)
async def _create_run(c: Call, fields: dict, thread_id: str | None) -> None:
    value = {
        "thread_id": thread_id,
        "assistant_id": fields.get("assistant_id"),
        "run_id": None,
        "status": "pending",
        "metadata": _metadata(fields),
        "prevent_insert_if_inflight": True,
        "multitask_strategy": fields.get("multitask_strategy"),
        "if_not_exists": fields.get("if_not_exists"),
        "after_seconds": fields.get("after_seconds"),
        "kwargs": _pick(
            fields,
            "input",
            "command",
            "config",
            "context",
            "stream_mode",
            "interrupt_before",
            "interrupt_after",
            "webhook",
            "checkpoint",
        ),
    }
    await c.guard(
        "threads",
        "create_run",
        value,
        writable=("metadata",),
        target=fields,
        access="threads" if thread_id is not None else None,
    )
    if thread_id is None and value["metadata"]:
        # the run's new thread carries the run's metadata (an owner, say), as in the reference
        thread_meta = fields.get("thread_metadata")
        fields["thread_metadata"] = {
            **(thread_meta if isinstance(thread_meta, dict) else {}),
            **value["metadata"],
        }
        c.body_changed = True
    await c.check_assistant(fields.get("assistant_id"), "Thread or assistant not found.")


@plan(
    "POST /threads/{thread_id}/runs",
    "POST /threads/{thread_id}/runs/stream",
    "POST /threads/{thread_id}/runs/wait",
)
async def _run_create(c: Call) -> None:
    await _create_run(c, c.fields(), c.param("thread_id"))


@plan("POST /runs", "POST /runs/stream", "POST /runs/wait")
async def _run_create_stateless(c: Call) -> None:
    await _create_run(c, c.fields(), None)


@plan("POST /runs/batch")
async def _run_batch(c: Call) -> None:
    for item in c.body if isinstance(c.body, list) else []:
        if isinstance(item, dict):
            await _create_run(c, item, None)
            c.body_changed = True


@plan("GET /threads/{thread_id}/runs")
async def _run_list(c: Call) -> None:
    await c.guard(
        "threads", "search", {"thread_id": c.param("thread_id"), "metadata": {}}, access="threads"
    )


@plan(
    "GET /threads/{thread_id}/runs/{run_id}",
    "GET /threads/{thread_id}/runs/{run_id}/join",
    "GET /threads/{thread_id}/runs/{run_id}/stream",
)
async def _run_read(c: Call) -> None:
    value = {"thread_id": c.param("thread_id"), "run_id": c.param("run_id")}
    await c.guard("threads", "read", value, access="threads")


@plan("DELETE /threads/{thread_id}/runs/{run_id}")
async def _run_delete(c: Call) -> None:
    value = {"thread_id": c.param("thread_id"), "run_id": c.param("run_id")}
    await c.guard("threads", "delete", value, access="threads")


@plan("POST /threads/{thread_id}/runs/{run_id}/cancel")
async def _run_cancel(c: Call) -> None:
    value = {
        "thread_id": c.param("thread_id"),
        "run_id": c.param("run_id"),
        "action": c.query.get("action", "interrupt"),
    }
    await c.guard("threads", "update", value, access="threads")


@plan("POST /runs/cancel")
async def _runs_cancel(c: Call) -> None:
    f = c.fields()
    value = {
        "thread_id": f.get("thread_id"),
        "run_ids": f.get("run_ids"),
        "status": f.get("status"),
        "action": c.query.get("action", "interrupt"),
    }
    await c.guard("threads", "update", value, access="threads")


# ---------------------------------------------------------------- crons
async def _cron_create(c: Call, thread_id: str | None) -> None:
    f = c.fields()
    value = {
        "payload": {k: v for k, v in f.items() if k != "metadata"},
        "schedule": f.get("schedule"),
        "cron_id": None,
        "thread_id": thread_id,
        "user_id": c.user.identity if c.user is not None else None,
        "end_time": f.get("end_time"),
        "metadata": _metadata(f),
    }
    await c.guard("crons", "create", value, writable=("metadata",), access="crons")
    if thread_id is not None:
        await c.guard("threads", "read", {"thread_id": thread_id}, access="threads")
    await c.check_assistant(f.get("assistant_id"), f"Assistant '{f.get('assistant_id')}' not found")


@plan("POST /runs/crons")
async def _cron_create_stateless(c: Call) -> None:
    await _cron_create(c, None)


@plan("POST /threads/{thread_id}/runs/crons")
async def _cron_create_thread(c: Call) -> None:
    await _cron_create(c, c.param("thread_id"))


@plan("POST /runs/crons/search", "POST /runs/crons/count")
async def _cron_search(c: Call) -> None:
    f = c.fields()
    value = {
        "assistant_id": f.get("assistant_id"),
        "thread_id": f.get("thread_id"),
        "limit": f.get("limit", 10),
        "offset": f.get("offset", 0),
        "metadata": _metadata(f),
    }
    await c.guard("crons", "search", value, writable=("metadata",), access="crons")


@plan("GET /runs/crons/{cron_id}")
async def _cron_read(c: Call) -> None:
    await c.guard("crons", "read", {"cron_id": c.param("cron_id")}, access="crons")


@plan("PATCH /runs/crons/{cron_id}")
async def _cron_update(c: Call) -> None:
    f = c.fields()
    value = {
        "cron_id": c.param("cron_id"),
        **_pick(f, "schedule", "end_time", "enabled", "on_run_completed", "metadata"),
        "payload": {k: v for k, v in f.items() if k != "metadata"},
    }
    await c.guard("crons", "update", value, writable=("metadata",), access="crons")


@plan("DELETE /runs/crons/{cron_id}")
async def _cron_delete(c: Call) -> None:
    await c.guard("crons", "delete", {"cron_id": c.param("cron_id")}, access="crons")


# ---------------------------------------------------------------- store
def _namespace(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


@plan("PUT /store/items")
async def _store_put(c: Call) -> None:
    f = c.fields()
    value = {
        "namespace": _namespace(f.get("namespace")),
        "key": f.get("key"),
        "value": f.get("value"),
        "index": f.get("index"),
        "ttl": f.get("ttl"),
    }
    await c.guard("store", "put", value, writable=("namespace", "key", "value", "index", "ttl"))


@plan("DELETE /store/items")
async def _store_delete(c: Call) -> None:
    f = c.fields()
    value = {"namespace": _namespace(f.get("namespace")), "key": f.get("key")}
    await c.guard("store", "delete", value, writable=("namespace", "key"))


@plan("GET /store/items")
async def _store_get(c: Call) -> None:
    q = c.query
    refresh = q.get("refresh_ttl")
    value = {
        "namespace": tuple(q.get("namespace", "").split(".")),
        "key": q.get("key"),
        "refresh_ttl": refresh.lower() == "true" if refresh is not None else None,
    }
    before = (value["namespace"], value["key"])
    await c.authorize("store", "get", value)
    namespace = _namespace(value.get("namespace"))
    if (namespace, value.get("key")) != before:
        labels = [str(label) for label in namespace]
        if any("." in label for label in labels):
            raise ApiError(422, "Namespace labels must not contain periods")
        updates = {"namespace": ".".join(labels)}
        if value.get("key") is not None:
            updates["key"] = str(value["key"])
        c.set_query(**updates)


@plan("POST /store/items/search")
async def _store_search(c: Call) -> None:
    f = c.fields()
    value = {
        "namespace": _namespace(f.get("namespace_prefix")),
        "filter": f.get("filter"),
        "limit": f.get("limit", 10),
        "offset": f.get("offset", 0),
        "query": f.get("query"),
        "refresh_ttl": f.get("refresh_ttl"),
    }
    flt = await c.authorize("store", "search", value)
    if isinstance(c.body, dict):
        c.body["namespace_prefix"] = list(_namespace(value.get("namespace")))
        existing = value.get("filter")
        if flt:
            # the handler's filter wins on any key both name: a caller cannot widen it
            existing = {**(existing if isinstance(existing, dict) else {}), **flt}
        if existing is not None:
            c.body["filter"] = existing
        c.body_changed = True


@plan("POST /store/namespaces")
async def _store_namespaces(c: Call) -> None:
    f = c.fields()
    prefix, suffix = f.get("prefix"), f.get("suffix")
    value = {
        "namespace": _namespace(prefix) if prefix else None,
        "suffix": _namespace(suffix) if suffix else None,
        "max_depth": f.get("max_depth"),
        "limit": f.get("limit", 100),
        "offset": f.get("offset", 0),
    }
    await c.authorize("store", "list_namespaces", value)
    if isinstance(c.body, dict):
        for key, name in (("namespace", "prefix"), ("suffix", "suffix")):
            ns = value.get(key)
            c.body[name] = list(ns) if ns else None
        c.body_changed = True


__all__ = ["PLANS", "Call", "system_assistant_id"]
