"""Crons: runs on a schedule, on one thread or (stateless) on a new thread each time.

A cron is a stored run request (`payload`) plus a schedule. The payload is kept as the
client sent it, with the assistant resolved and `config.configurable.cron_id` added, so
reading a cron back shows what will run; firing turns it into an ordinary run through
RunService, so a cron run obeys every rule a run does (multitask strategy, webhooks,
temporary threads). The scheduler decides *when* to fire; this module decides *what*.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from graphdock.server.config import WebhooksConfig
from graphdock.server.ports.records import CronRecord, Json
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.assistants import BOTH_CONTEXT_AND_CONFIGURABLE, AssistantService
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Invalid, NotFound
from graphdock.server.services.ids import is_uuid, uuid7
from graphdock.server.services.run_spec import RunSpec, StatelessRunCreate, ThreadRunCreate
from graphdock.server.services.runs import RunService
from graphdock.server.services.schedules import (
    check_schedule,
    next_run,
    parse_end_time,
    zone,
)
from graphdock.server.services.webhooks import check_webhook_url

log = logging.getLogger("graphdock.crons")

CRON_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "end_time",
    "schedule",
    "timezone",
    "payload",
    "next_run_date",
    "metadata",
    "on_run_completed",
    "enabled",
    "created_at",
    "updated_at",
)
# Payload keys that describe the schedule, not the run it makes.
SCHEDULE_KEYS = frozenset({"schedule", "timezone", "end_time", "enabled", "on_run_completed"})
THREAD_NOT_FOUND = (
    "Thread with ID '{}' not found. Please verify the ID is correct and the thread hasn't "
    "been deleted or expired."
)


def shape(record: Mapping[str, Any]) -> Json:
    """The API's view of a cron record (or of one with edits applied)."""
    out = {k: record.get(k) for k in CRON_FIELDS}
    out["end_time"] = record.get("end_time_raw")  # echoed exactly as the client sent it
    return out


def _with_cron_id(config: Any, cron_id: str) -> dict:
    config = dict(config or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    return config


def _check_run_fields(payload: dict, webhooks: WebhooksConfig | None) -> None:
    """Refuse now what RunService would refuse at every firing."""
    if (payload.get("config") or {}).get("configurable") and payload.get("context"):
        raise BadRequest(BOTH_CONTEXT_AND_CONFIGURABLE)
    if payload.get("webhook"):
        check_webhook_url(payload["webhook"], webhooks)


class CronService:
    def __init__(
        self,
        storage: Storage,
        assistants: AssistantService,
        runs: RunService,
        webhooks: WebhooksConfig | None = None,
    ):
        self.storage = storage
        self.assistants = assistants
        self.runs = runs
        self.webhooks = webhooks
        # Set by the app to wake the scheduler, so a new schedule's first firing is on time.
        self.on_change: Callable[[], None] = lambda: None

    # ---------------------------------------------------------------- create
    async def create(self, thread_id: str | None, body: dict, ctx: RequestContext) -> dict:
        """`body` holds the fields the client sent, in the order it sent them."""
        stateless = thread_id is None
        requested = body["assistant_id"]
        try:
            assistant = await self.assistants.resolve(
                requested, ctx, not_found=f"Assistant '{requested}' not found"
            )
        except Invalid:
            raise NotFound(f"Assistant '{requested}' not found") from None
        tz = body.get("timezone")
        zone(tz)
        check_schedule(body["schedule"], tz)
        end_time = parse_end_time(body.get("end_time"))
        now = clock.now()
        cron_id = uuid7()
        payload = {**body, "assistant_id": assistant["assistant_id"]}
        _check_run_fields(payload, self.webhooks)
        # A config the client sent keeps its place in the payload; otherwise it comes last.
        payload["config"] = _with_cron_id(payload.get("config"), cron_id)
        enabled = body.get("enabled")
        record: CronRecord = {
            "cron_id": cron_id,
            "assistant_id": assistant["assistant_id"],
            "thread_id": thread_id,
            "user_id": ctx.identity,
            "end_time": end_time,
            "end_time_raw": body.get("end_time"),
            "schedule": body["schedule"],
            "timezone": tz,
            "payload": payload,
            "next_run_date": next_run(body["schedule"], tz, now),
            "metadata": body.get("metadata") or {},
            "on_run_completed": (body.get("on_run_completed") or "delete") if stateless else None,
            "enabled": enabled if enabled is not None else True,
            "created_at": now,
            "updated_at": now,
        }
        async with self.storage.begin() as tx:
            if thread_id is not None and (
                await tx.get_thread(thread_id, ctx.filter_for("threads")) is None
            ):
                raise NotFound(THREAD_NOT_FOUND.format(thread_id))
            await tx.insert_cron(record)
        self.on_change()
        return shape(record)

    # ---------------------------------------------------------------- read
    async def _get_record(self, cron_id: str, ctx: RequestContext, missing: str) -> CronRecord:
        async with self.storage.begin() as tx:
            record = await tx.get_cron(cron_id, ctx.filter_for("crons"))
        if record is None:
            raise NotFound(missing)
        return record

    async def get(self, cron_id: str, ctx: RequestContext) -> dict:
        return shape(await self._get_record(cron_id, ctx, "Not Found"))

    @staticmethod
    def _check_filters(body: dict) -> None:
        if body.get("assistant_id") is not None and not is_uuid(body["assistant_id"]):
            raise Invalid("Invalid assistant ID: must be a UUID")
        if body.get("thread_id") is not None and not is_uuid(body["thread_id"]):
            raise Invalid("Invalid thread ID: must be a UUID")

    async def search(self, body: dict, ctx: RequestContext) -> tuple[list[dict], bool]:
        self._check_filters(body)
        limit, offset = body.get("limit", 10), body.get("offset", 0)
        async with self.storage.begin() as tx:
            rows = await tx.search_crons(
                assistant_id=body.get("assistant_id"),
                thread_id=body.get("thread_id"),
                enabled=body.get("enabled"),
                metadata=body.get("metadata"),
                limit=limit + 1,
                offset=offset,
                sort_by=body.get("sort_by") or "created_at",
                sort_order=body.get("sort_order") or "desc",
                access=ctx.filter_for("crons"),
            )
        return [shape(r) for r in rows[:limit]], len(rows) > limit

    async def count(self, body: dict, ctx: RequestContext) -> int:
        self._check_filters(body)
        async with self.storage.begin() as tx:
            return await tx.count_crons(
                assistant_id=body.get("assistant_id"),
                thread_id=body.get("thread_id"),
                metadata=body.get("metadata"),
                access=ctx.filter_for("crons"),
            )

    # ---------------------------------------------------------------- change
    async def patch(self, cron_id: str, body: dict, ctx: RequestContext) -> dict:
        """Metadata merges; every other field sent replaces its value, in the payload too."""
        missing = f"Cron '{cron_id}' not found"
        current = await self._get_record(cron_id, ctx, missing)
        if body.get("on_run_completed") is not None and current["thread_id"] is not None:
            raise Invalid(
                "on_run_completed applies to stateless crons only (this cron has a thread)"
            )
        schedule = body["schedule"] if body.get("schedule") is not None else current["schedule"]
        tz = body["timezone"] if "timezone" in body else current["timezone"]
        zone(tz)
        check_schedule(schedule, tz)
        now = clock.now()
        payload = {**current["payload"], **body}
        if "config" in body:
            payload["config"] = _with_cron_id(body["config"], cron_id)
        _check_run_fields(payload, self.webhooks)
        changes: dict[str, Any] = {
            "schedule": schedule,
            "timezone": tz,
            "payload": payload,
            "next_run_date": next_run(schedule, tz, now),
            "updated_at": now,
        }
        if "end_time" in body:
            changes["end_time"] = parse_end_time(body["end_time"])
            changes["end_time_raw"] = body["end_time"]
        if body.get("metadata") is not None:
            changes["metadata"] = {**current["metadata"], **body["metadata"]}
        if body.get("enabled") is not None:
            changes["enabled"] = body["enabled"]
        if body.get("on_run_completed") is not None:
            changes["on_run_completed"] = body["on_run_completed"]
        async with self.storage.begin() as tx:
            if await tx.get_cron(cron_id, ctx.filter_for("crons")) is None:
                raise NotFound(missing)
            await tx.update_cron(cron_id, changes)
        self.on_change()
        return shape({**current, **changes})

    async def delete(self, cron_id: str, ctx: RequestContext) -> None:
        async with self.storage.begin() as tx:
            if not await tx.delete_cron(cron_id, ctx.filter_for("crons")):
                raise NotFound("Not Found")

    # ---------------------------------------------------------------- firing (scheduler)
    def following(self, cron: CronRecord, now: datetime) -> datetime | None:
        """When a cron due now fires next: the first time after `now`, so a cron that was
        due many times while the server was down fires once, not in a burst; None once
        that is past its end_time."""
        upcoming = next_run(cron["schedule"], cron["timezone"], now)
        end_time = cron["end_time"]
        if end_time is not None and upcoming > end_time:
            return None
        return upcoming

    async def fire(self, cron: CronRecord) -> dict | None:
        """Create the run of one firing; None if there was nothing to run it on."""
        body = {k: v for k, v in cron["payload"].items() if k not in SCHEDULE_KEYS}
        config = dict(body.get("config") or {})
        configurable = dict(config.get("configurable") or {})
        cron_id = configurable.pop("cron_id", cron["cron_id"])
        if configurable:
            config["configurable"] = configurable
        else:
            config.pop("configurable", None)
        body["config"] = config
        spec: RunSpec
        if cron["thread_id"] is None:
            body["on_completion"] = cron["on_run_completed"] or "delete"
            spec = StatelessRunCreate.model_validate(body)
        else:
            spec = ThreadRunCreate.model_validate(body)
        # cron_id reaches the run's configurable the way forwarded headers do, which also
        # keeps it out of the configurable-vs-context check when the payload has a context.
        ctx = RequestContext(
            user={"identity": cron["user_id"]} if cron.get("user_id") else None,
            headers={"cron_id": cron_id},
        )
        try:
            return await self.runs.create(
                cron["thread_id"],
                spec,
                ctx,
                thread_metadata=cron["metadata"] if cron["thread_id"] is None else None,
            )
        except NotFound:
            # Its thread or assistant is gone, so it can never run again: drop it, as
            # deleting a thread drops its crons in the reference server.
            log.warning("cron %s: its thread or assistant is gone; deleting it", cron["cron_id"])
            async with self.storage.begin() as tx:
                await tx.delete_cron(cron["cron_id"])
            return None
