"""`client.crons`: runs on a schedule, for one thread or stateless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from .._endpoints import AsyncResource, Call, Pages, SyncResource, endpoint
from .._types import Config, Cron, Durability, Json, OnCompletionBehavior
from .._wire import Request, compact, path, truthy

Headers = Mapping[str, str] | None
_UNSET: Any = object()


def _timezone(value: str | tzinfo | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, tzinfo):
        raise TypeError(f"timezone must be a str or tzinfo, not {type(value).__name__}")
    name = getattr(value, "key", None) or value.tzname(None)
    if not name:
        raise ValueError(f"Cannot determine the name of timezone {value!r}")
    return name


_BODY_KEYS = (
    "schedule", "input", "metadata", "config", "context", "assistant_id", "checkpoint_during",
    "interrupt_before", "interrupt_after", "webhook", "on_run_completed", "end_time", "enabled",
    "timezone", "stream_mode", "stream_subgraphs", "stream_resumable", "durability",
    "multitask_strategy",
)  # fmt: skip


def _cron_body(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A cron body from a method's arguments (`locals()`): None (and unset) values dropped,
    datetimes and timezones as strings."""
    body = {k: arguments[k] for k in _BODY_KEYS if arguments.get(k) not in (None, _UNSET)}
    if isinstance(body.get("end_time"), datetime):
        body["end_time"] = body["end_time"].isoformat()
    if "timezone" in body:
        body["timezone"] = _timezone(body["timezone"])
    if not body.get("multitask_strategy"):
        body.pop("multitask_strategy", None)
    return body


class CronEndpoints:
    """The cron endpoints (`/runs/crons`, `/threads/{id}/runs/crons`), defined once."""

    @endpoint
    def create_for_thread(
        self,
        thread_id: str,
        assistant_id: str,
        *,
        schedule: str,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint_during: bool | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        end_time: datetime | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: Any = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Cron]:
        """Schedule runs of `assistant_id` on an existing thread.

        Example:
            cron = await client.crons.create_for_thread(tid, "agent", schedule="*/5 * * * *")
        """
        body = _cron_body(locals())
        route = path("/threads/{}/runs/crons", thread_id)
        return Call(Request("POST", route, json=body, headers=headers, params=params))

    @endpoint
    def create(
        self,
        *args: str,
        schedule: str,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        checkpoint_during: bool | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        webhook: str | None = None,
        on_run_completed: OnCompletionBehavior | None = None,
        multitask_strategy: str | None = None,
        end_time: datetime | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: Any = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Cron]:
        """Schedule runs. Official form: `create(assistant_id, schedule=...)` makes a stateless
        cron (a new thread per firing). Seed form: `create(thread_id, assistant_id, schedule=...)`
        (or `thread_id=` as a keyword) schedules on that thread, like `create_for_thread`.

        Example:
            cron = await client.crons.create("agent", schedule="0 9 * * *")
            cron = await client.crons.create(thread_id=tid, assistant_id="agent", schedule="0 9 * * *")
        """
        if len(args) > 2 or (len(args) == 2 and (assistant_id or thread_id)):
            raise TypeError(
                "create() takes (assistant_id) or (thread_id, assistant_id) positionally"
            )
        if len(args) == 2:
            thread_id, assistant_id = args
        elif len(args) == 1 and assistant_id is None:
            assistant_id = args[0]
        elif len(args) == 1:
            if thread_id is not None:
                raise TypeError("thread_id given twice")
            thread_id = args[0]
        if assistant_id is None:
            raise TypeError("create() missing required argument: 'assistant_id'")
        if thread_id is not None:
            on_run_completed = None  # only stateless crons take it
        body = _cron_body(locals())
        route = (
            path("/threads/{}/runs/crons", thread_id) if thread_id is not None else "/runs/crons"
        )
        return Call(Request("POST", route, json=body, headers=headers, params=params))

    @endpoint
    def get(self, cron_id: str, *, headers: Headers = None, params: Any = None) -> Call[Cron]:
        """Get a cron job (seed API; `GET /runs/crons/{cron_id}`).

        Example:
            cron = await client.crons.get(cron_id)
        """
        return Call(Request("GET", path("/runs/crons/{}", cron_id), headers=headers, params=params))

    @endpoint
    def update(
        self,
        cron_id: str,
        *,
        schedule: str | None = None,
        end_time: datetime | None = _UNSET,
        input: Any = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Any = None,
        webhook: str | None = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        on_run_completed: OnCompletionBehavior | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: Any = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Cron]:
        """Change a cron job. Only given fields change; `end_time=None` clears the end time.

        Example:
            cron = await client.crons.update(cron_id, enabled=False)
        """
        body = _cron_body(locals())
        if end_time is None:
            body["end_time"] = None  # explicitly clears the end time
        return Call(
            Request(
                "PATCH", path("/runs/crons/{}", cron_id), json=body, headers=headers, params=params
            )
        )

    @endpoint
    def delete(self, cron_id: str, *, headers: Headers = None, params: Any = None) -> Call[None]:
        """Delete a cron job.

        Example:
            await client.crons.delete(cron["cron_id"])
        """
        return Call(
            Request("DELETE", path("/runs/crons/{}", cron_id), headers=headers, params=params)
        )

    @staticmethod
    def _search_body(
        assistant_id: str | None,
        thread_id: str | None,
        enabled: bool | None,
        metadata: Json,
        limit: int,
        offset: int,
        sort_by: str | None,
        sort_order: str | None,
        select: list[str] | None,
    ) -> dict[str, Any]:
        return (
            compact({"assistant_id": assistant_id, "thread_id": thread_id, "enabled": enabled})
            | {"limit": limit, "offset": offset}
            | truthy(
                {
                    "metadata": metadata,
                    "sort_by": sort_by,
                    "sort_order": sort_order,
                    "select": select,
                }
            )
        )

    @endpoint
    def search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Json = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[Cron]]:
        """Search cron jobs.

        Example:
            jobs = await client.crons.search(assistant_id=assistant_id)
        """
        body = self._search_body(
            assistant_id, thread_id, enabled, metadata, limit, offset, sort_by, sort_order, select
        )
        return Call(
            Request(
                "POST",
                "/runs/crons/search",
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
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Json = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        page_size: int = 100,
        headers: Headers = None,
    ) -> Pages[Cron]:
        """Iterate over every matching cron job, `page_size` per request.

        Example:
            async for cron in client.crons.iter_search(thread_id=tid):
                print(cron["schedule"])
        """

        def page(offset: int, limit: int) -> Request:
            body = self._search_body(
                assistant_id,
                thread_id,
                enabled,
                metadata,
                limit,
                offset,
                sort_by,
                sort_order,
                select,
            )
            return Request(
                "POST", "/runs/crons/search", json=body, headers=headers, idempotent=True
            )

        return Pages(page, page_size=page_size)

    @endpoint
    def count(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        metadata: Json = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[int]:
        """Count cron jobs.

        Example:
            n = await client.crons.count(thread_id=tid)
        """
        body = truthy({"assistant_id": assistant_id, "thread_id": thread_id, "metadata": metadata})
        return Call(
            Request(
                "POST",
                "/runs/crons/count",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )


class CronClient(CronEndpoints, AsyncResource):
    """Schedule recurring runs.

    Example:
        cron = await client.crons.create("agent", schedule="0 9 * * *", input={"messages": []})
    """


class SyncCronClient(CronEndpoints, SyncResource):
    """Schedule recurring runs.

    Example:
        cron = client.crons.create("agent", schedule="0 9 * * *", input={"messages": []})
    """
