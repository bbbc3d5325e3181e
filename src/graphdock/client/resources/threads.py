"""`client.threads`: conversations and their checkpointed state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from .._endpoints import (
    AsyncResource,
    Call,
    Pages,
    Stream,
    SyncResource,
    endpoint,
    overloaded_endpoint,
)
from .._protocol import TransportKind
from .._thread_stream import ThreadSession
from .._types import (
    Checkpoint,
    Json,
    OnConflictBehavior,
    StreamPart,
    Thread,
    ThreadState,
    ThreadStatus,
    ThreadUpdateStateResponse,
)
from .._wire import NO_BODY, Request, merge_params, path, truthy

Headers = Mapping[str, str] | None


def _ttl(ttl: int | float | Mapping[str, Any] | None) -> Any:
    return {"ttl": ttl, "strategy": "delete"} if isinstance(ttl, int | float) else ttl


class _UpdateForms(Protocol):
    """`threads.update` gives the thread, or nothing with `return_minimal=True`."""

    def thread(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        return_minimal: Literal[False] = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Thread]: ...

    def maybe_thread(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        return_minimal: bool,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Thread | None]: ...


class ThreadsEndpoints:
    """The `/threads` endpoints, each defined once for both clients."""

    @endpoint
    def get(
        self,
        thread_id: str,
        *,
        include: Sequence[str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Thread]:
        """Get a thread; `include=["ttl"]` asks for extra fields.

        Example:
            thread = await client.threads.get(thread_id)
        """
        query = merge_params({"include": ",".join(include)} if include else {}, params)
        return Call(Request("GET", path("/threads/{}", thread_id), headers=headers, params=query))

    @endpoint
    def create(
        self,
        *,
        metadata: Json = None,
        thread_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        supersteps: Sequence[Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
        graph_id: str | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Thread]:
        """Create a thread, optionally with an id, prefilled `supersteps` of state updates, and a TTL in minutes.

        Example:
            thread = await client.threads.create(metadata={"portfolio": "growth"})
        """
        body = truthy({"thread_id": thread_id, "if_exists": if_exists, "ttl": _ttl(ttl)})
        if metadata or graph_id:
            body["metadata"] = {**(metadata or {}), **({"graph_id": graph_id} if graph_id else {})}
        if supersteps:
            body["supersteps"] = [
                {
                    "updates": [
                        {
                            "values": u["values"],
                            "command": u.get("command"),
                            "as_node": u["as_node"],
                        }
                        for u in step["updates"]
                    ]
                }
                for step in supersteps
            ]
        return Call(Request("POST", "/threads", json=body, headers=headers, params=params))

    @overloaded_endpoint(_UpdateForms.thread, _UpdateForms.maybe_thread)
    def update(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        return_minimal: bool = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Thread | None]:
        """Merge `metadata` into the thread (and/or set its TTL).

        Example:
            thread = await client.threads.update(thread_id, metadata={"stage": "done"})
        """
        body: dict[str, Any] = {"metadata": dict(metadata or {})} | truthy({"ttl": _ttl(ttl)})
        extra = {"Prefer": "return=minimal"} if return_minimal else {}
        return Call(
            Request(
                "PATCH",
                path("/threads/{}", thread_id),
                json=body,
                headers={**extra, **(headers or {})},
                params=params,
            )
        )

    @endpoint
    def delete(self, thread_id: str, *, headers: Headers = None, params: Any = None) -> Call[None]:
        """Delete a thread and its runs.

        Example:
            await client.threads.delete(thread_id)
        """
        return Call(
            Request("DELETE", path("/threads/{}", thread_id), headers=headers, params=params)
        )

    def _search_body(self, **fields: Any) -> dict[str, Any]:
        return {"limit": fields.pop("limit"), "offset": fields.pop("offset")} | truthy(fields)

    @endpoint
    def search(
        self,
        *,
        metadata: Json = None,
        values: Json = None,
        ids: Sequence[str] | None = None,
        status: ThreadStatus | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        extract: dict[str, str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[Thread]]:
        """Search threads by metadata, values, ids or status.

        Example:
            threads = await client.threads.search(metadata={"user_id": "123"}, limit=5)
        """
        body = self._search_body(
            metadata=metadata,
            values=values,
            ids=ids,
            status=status,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_order=sort_order,
            select=select,
            extract=extract,
        )
        return Call(
            Request(
                "POST",
                "/threads/search",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    @endpoint
    def iter_search(
        self,
        *,
        metadata: Json = None,
        values: Json = None,
        ids: Sequence[str] | None = None,
        status: ThreadStatus | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        extract: dict[str, str] | None = None,
        page_size: int = 100,
        headers: Headers = None,
    ) -> Pages[Thread]:
        """Iterate over every matching thread, `page_size` per request.

        Example:
            async for thread in client.threads.iter_search(status="idle"):
                print(thread["thread_id"])
        """

        def page(offset: int, limit: int) -> Request:
            body = self._search_body(
                metadata=metadata,
                values=values,
                ids=ids,
                status=status,
                limit=limit,
                offset=offset,
                sort_by=sort_by,
                sort_order=sort_order,
                select=select,
                extract=extract,
            )
            return Request("POST", "/threads/search", json=body, headers=headers, idempotent=True)

        return Pages(page, page_size=page_size)

    @endpoint
    def count(
        self,
        *,
        metadata: Json = None,
        values: Json = None,
        status: ThreadStatus | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[int]:
        """Count threads matching the filters.

        Example:
            n = await client.threads.count(status="idle")
        """
        body = truthy({"metadata": metadata, "values": values, "status": status})
        return Call(
            Request(
                "POST", "/threads/count", json=body, headers=headers, params=params, idempotent=True
            )
        )

    @endpoint
    def copy(self, thread_id: str, *, headers: Headers = None, params: Any = None) -> Call[Thread]:
        """Copy a thread with its whole checkpoint history; returns the new thread.

        Example:
            twin = await client.threads.copy(thread_id)
        """
        return Call(
            Request("POST", path("/threads/{}/copy", thread_id), headers=headers, params=params)
        )

    @endpoint
    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: str = "delete",
        headers: Headers = None,
        params: Any = None,
    ) -> Call[dict[str, Any]]:
        """Delete threads in bulk (`strategy="keep_latest"` keeps only their latest checkpoint).

        Example:
            result = await client.threads.prune([tid1, tid2])  # {"pruned_count": 2}
        """
        body: dict[str, Any] = {"thread_ids": list(thread_ids)} | (
            {"strategy": strategy} if strategy != "delete" else {}
        )
        return Call(Request("POST", "/threads/prune", json=body, headers=headers, params=params))

    @endpoint
    def get_state(
        self,
        thread_id: str,
        checkpoint: Checkpoint | str | None = None,
        checkpoint_id: str | None = None,
        *,
        subgraphs: bool = False,
        select: list[str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[ThreadState]:
        """Get the thread's current state, or the state at a checkpoint.

        The second argument may be a checkpoint dict or (as in the seed API) a checkpoint id string.

        Example:
            state = await client.threads.get_state(thread_id)
            older = await client.threads.get_state(thread_id, checkpoint_id=state["parent_checkpoint"]["checkpoint_id"])
        """
        if isinstance(checkpoint, str):
            checkpoint, checkpoint_id = None, checkpoint
        if checkpoint:
            body = {"checkpoint": checkpoint, "subgraphs": subgraphs} | truthy({"select": select})
            return Call(
                Request(
                    "POST",
                    path("/threads/{}/state/checkpoint", thread_id),
                    json=body,
                    headers=headers,
                    params=params,
                    idempotent=True,
                )
            )
        route = (
            path("/threads/{}/state/{}", thread_id, checkpoint_id)
            if checkpoint_id
            else path("/threads/{}/state", thread_id)
        )
        query = merge_params({"subgraphs": subgraphs} | truthy({"select": select}), params)
        return Call(Request("GET", route, headers=headers, params=query))

    @endpoint
    def update_state(
        self,
        thread_id: str,
        values: dict[str, Any] | Sequence[dict[str, Any]] | None,
        *,
        as_node: str | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[ThreadUpdateStateResponse]:
        """Apply `values` to the thread's state as if node `as_node` wrote them; returns the new checkpoint.

        Example:
            result = await client.threads.update_state(thread_id, {"count": 5}, as_node="a")
        """
        body = {"values": values} | truthy(
            {"checkpoint_id": checkpoint_id, "checkpoint": checkpoint, "as_node": as_node}
        )
        return Call(
            Request(
                "POST",
                path("/threads/{}/state", thread_id),
                json=body,
                headers=headers,
                params=params,
            )
        )

    @endpoint
    def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | Checkpoint | None = None,
        metadata: Json = None,
        checkpoint: Checkpoint | None = None,
        select: list[str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[ThreadState]]:
        """List past states of the thread, newest first.

        Example:
            history = await client.threads.get_history(thread_id, limit=5)
        """
        # A bare checkpoint id (seed API) is sent as the config servers accept.
        cursor = {"configurable": {"checkpoint_id": before}} if isinstance(before, str) else before
        body = {"limit": limit} | truthy(
            {"before": cursor, "metadata": metadata, "checkpoint": checkpoint, "select": select}
        )
        return Call(
            Request(
                "POST",
                path("/threads/{}/history", thread_id),
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    @endpoint
    def join_stream(
        self,
        thread_id: str,
        *,
        last_event_id: str | None = None,
        stream_mode: str | Sequence[str] = "run_modes",
        headers: Headers = None,
        params: Any = None,
    ) -> Stream[StreamPart]:
        """Stream everything happening on a thread (runs' events, `run_done`, state updates).

        The async result can be iterated directly or awaited first, as in the official client.

        Example:
            async for part in client.threads.join_stream(thread_id):
                print(part.event)
        """
        query = merge_params({"stream_mode": stream_mode}, params)
        extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
        return Stream(
            Request(
                "GET",
                path("/threads/{}/stream", thread_id),
                json=NO_BODY,
                params=query,
                headers={**extra, **(headers or {})},
            )
        )

    @endpoint
    def stream(
        self,
        thread_id: str | None = None,
        *,
        assistant_id: str,
        headers: Headers = None,
        run_start_timeout: float | None = None,
        transport: TransportKind = "sse",
    ) -> ThreadSession:
        """Open a v3 thread streaming session (`async with` on the async client, `with` on the sync one).

        Without `thread_id` a new id is made here, and the thread is created by the first
        `run.start`. `transport="websocket"` reads events over a WebSocket (needs the
        `websockets` package). `run_start_timeout` is accepted for the official client's
        signature: commands finish before any projection reads, so there is nothing to wait on.

        Example:
            async with client.threads.stream(assistant_id="agent") as thread:
                await thread.run.start(input={"messages": [{"role": "user", "content": "hi"}]})
                async for state in thread.values:
                    print(state)
                final = await thread.output
        """
        return ThreadSession(thread_id, assistant_id, transport, headers)


class ThreadsClient(ThreadsEndpoints, AsyncResource):
    """Create, read, update, search, copy and prune threads; read and write their state.

    Example:
        thread = await client.threads.create(metadata={"user_id": "123"})
    """


class SyncThreadsClient(ThreadsEndpoints, SyncResource):
    """Create, read, update, search, copy and prune threads; read and write their state.

    Example:
        thread = client.threads.create(metadata={"user_id": "123"})
    """
