"""Assistants: versioned configurations of a graph.

Every graph gets a system assistant whose id is derived from the graph id, so clients can
address it by name. An edit never overwrites: it adds a version and makes it the latest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from langgraph.pregel import Pregel

from graphdock.server.ports.records import AssistantRecord, AssistantVersionRecord, Json
from graphdock.server.ports.storage import Storage
from graphdock.server.services import clock
from graphdock.server.services.context import RequestContext
from graphdock.server.services.errors import BadRequest, Conflict, Invalid, NotFound
from graphdock.server.services.graph_schemas import input_schema
from graphdock.server.services.graphs import GraphAccess, GraphRegistry, system_assistant_id
from graphdock.server.services.ids import is_uuid, uuid4
from graphdock.server.services.sorting import sort_of

ASSISTANT_FIELDS = (
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "created_at",
    "updated_at",
    "version",
    "description",
)
VERSION_FIELDS = (
    "assistant_id",
    "version",
    "graph_id",
    "config",
    "context",
    "metadata",
    "created_at",
    "name",
    "description",
)
SORT_FIELDS = ("assistant_id", "created_at", "updated_at", "name", "graph_id")

BOTH_CONTEXT_AND_CONFIGURABLE = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)


def _configurable(config: dict) -> dict | None:
    configurable = config.get("configurable")
    if configurable is not None and not isinstance(configurable, dict):
        raise Invalid("config.configurable must be an object")
    return configurable


def mirror_context(config: dict | None, context: dict | None) -> tuple[dict, dict]:
    """`config.configurable` and `context` are two names for one thing: keep them in step."""
    config = dict(config or {})
    configurable = _configurable(config)
    if configurable and context:
        raise BadRequest(BOTH_CONTEXT_AND_CONFIGURABLE)
    if context:
        config["configurable"] = dict(context)
        return config, dict(context)
    return config, dict(configurable or {})


def patched_context(
    current: AssistantRecord, config: dict | None, context: dict | None
) -> tuple[dict, dict]:
    """Config and context after a PATCH, the reference's way.

    An empty `config` keeps the old config; a `context` (even `{}`) replaces the old
    context; a non-empty `configurable` or `context` is mirrored into the other name.
    """
    config = dict(config or {})
    configurable = _configurable(config)
    if configurable and context:
        raise BadRequest(BOTH_CONTEXT_AND_CONFIGURABLE)
    if configurable:
        context = dict(configurable)
    elif context:
        config["configurable"] = dict(context)
    return config or current["config"], current["context"] if context is None else context


def shape(record: Mapping[str, Any], fields: tuple[str, ...] = ASSISTANT_FIELDS) -> Json:
    """The API's view of an assistant (or version) record, or of one with edits applied."""
    return {k: record.get(k) for k in fields}


class AssistantService:
    def __init__(self, storage: Storage, graphs: GraphRegistry, store: Any = None):
        self.storage = storage
        self.graphs = graphs
        self.store = store  # what a graph factory's ServerRuntime gives it
        # (assistant_id, version) -> its graph's input schema: building a graph (a factory,
        # say) for every tool listing would be slow, and a version never changes
        self._input_schemas: dict[tuple[str, int], dict | None] = {}

    async def described_graph(
        self, assistant: Mapping[str, Any], user: dict | None = None
    ) -> Pregel:
        """The compiled graph an assistant's config builds, to describe (no checkpointer
        bound; a factory is told it builds for `assistants.read`, for `user`). Raises
        NotFound when the graph is not served here, BadRequest when it cannot be built."""
        if assistant["graph_id"] not in self.graphs:
            raise NotFound(f"Graph '{assistant['graph_id']}' is not served by this server")
        entry = self.graphs.get(assistant["graph_id"])
        configurable = {
            **(assistant["config"].get("configurable") or {}),
            **(assistant.get("context") or {}),
        }
        try:
            async with entry.open(
                {"configurable": configurable},
                checkpointer=None,
                store=self.store,
                access=GraphAccess.of("assistants.read", user),
            ) as graph:
                return graph
        except Exception as exc:  # a factory that cannot build with this assistant's config
            raise BadRequest(
                f"Graph '{entry.graph_id}' could not be built: {type(exc).__name__}: {exc}"
            ) from exc

    async def input_schema(self, assistant: Mapping[str, Any]) -> dict | None:
        """The JSON schema of what a run of this assistant takes, None when it has none."""
        key = (assistant["assistant_id"], assistant.get("version") or 0)
        if key not in self._input_schemas:
            if len(self._input_schemas) > 4096:
                self._input_schemas.clear()
            self._input_schemas[key] = input_schema(await self.described_graph(assistant))
        return self._input_schemas[key]

    def _check_graph(self, graph_id: str) -> None:
        if graph_id not in self.graphs:
            raise NotFound(
                f"Graph '{graph_id}' not found. Expected one of: {sorted(self.graphs.ids)}"
            )

    async def ensure_system_assistants(self) -> None:
        start = clock.now()
        async with self.storage.begin() as tx:
            for position, graph_id in enumerate(self.graphs.ids):
                now = start + timedelta(
                    microseconds=position
                )  # keeps registration order when sorted
                record: AssistantRecord = {
                    "assistant_id": system_assistant_id(graph_id),
                    "graph_id": graph_id,
                    "config": {},
                    "context": {},
                    "metadata": {"created_by": "system"},
                    "name": graph_id,
                    "description": self.graphs.get(graph_id).spec.description,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                if await tx.insert_assistant_if_absent(record):
                    await tx.insert_assistant_version(_version_of(record))

    async def create(self, body: dict, ctx: RequestContext) -> dict:
        graph_id = body["graph_id"]
        self._check_graph(graph_id)
        config, context = mirror_context(body.get("config"), body.get("context"))
        assistant_id = body.get("assistant_id") or uuid4()
        now = clock.now()
        record: AssistantRecord = {
            "assistant_id": assistant_id,
            "graph_id": graph_id,
            "config": config,
            "context": context,
            "metadata": body.get("metadata") or {},
            "name": body.get("name") or "Untitled",
            "description": body.get("description"),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        async with self.storage.begin() as tx:
            existing = await tx.get_assistant(assistant_id)
            if existing is not None:
                if body.get("if_exists") == "do_nothing":
                    if await tx.get_assistant(assistant_id, ctx.filter_for("assistants")) is None:
                        raise Conflict(f"Assistant {assistant_id} already exists")
                    return shape(existing)
                raise Conflict(f"Assistant {assistant_id} already exists")
            await tx.insert_assistant(record)
            await tx.insert_assistant_version(_version_of(record))
        return shape(record)

    async def get(self, assistant_id: str, ctx: RequestContext) -> dict:
        async with self.storage.begin() as tx:
            record = await tx.get_assistant(assistant_id, ctx.filter_for("assistants"))
        if record is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        return shape(record)

    def resolve_id(self, value: str) -> str:
        """An assistant UUID, or the system assistant of the graph named in its place."""
        if is_uuid(value):
            return value
        if value in self.graphs:
            return system_assistant_id(value)
        raise Invalid(
            f"Invalid assistant: '{value}'. Must be either:\n- A valid assistant UUID, or\n"
            f"- One of the registered graphs: {', '.join(self.graphs.ids)}"
        )

    def is_system(self, assistant_id: str) -> bool:
        """One of the assistants the server made for its graphs (by UUID or graph name)."""
        return assistant_id in self.graphs or assistant_id in self.graphs.system_assistant_ids()

    def run_access(self, assistant_id: str, ctx: RequestContext) -> dict | None:
        """The filter an assistant must pass to be run (or scheduled) by this caller:
        none for the system assistants, which are everyone's to run."""
        return None if self.is_system(assistant_id) else ctx.filter_for("assistants")

    async def resolve(
        self, assistant_id: str, ctx: RequestContext, *, not_found: str | None = None
    ) -> AssistantRecord:
        """The assistant a run or cron names: by UUID, or the system assistant of a graph
        named in its place."""
        assistant_id = self.resolve_id(assistant_id)
        async with self.storage.begin() as tx:
            record = await tx.get_assistant(assistant_id, self.run_access(assistant_id, ctx))
        if record is None:
            raise NotFound(not_found or f"Assistant {assistant_id} not found")
        return record

    async def patch(self, assistant_id: str, body: dict, ctx: RequestContext) -> dict:
        """A new version that becomes the latest: metadata merges, config and context replace."""
        if body.get("graph_id") is not None:
            self._check_graph(body["graph_id"])
        async with self.storage.begin() as tx:
            current = await tx.get_assistant(assistant_id, ctx.filter_for("assistants"))
            if current is None:
                raise NotFound(f"Assistant {assistant_id} not found")
            config, context = patched_context(current, body.get("config"), body.get("context"))
            now = clock.now()
            record: AssistantRecord = {
                **current,
                "graph_id": body.get("graph_id") or current["graph_id"],
                "config": config,
                "context": context,
                "metadata": {**current["metadata"], **(body.get("metadata") or {})},
                "name": body.get("name", current["name"]),
                "description": body.get("description", current["description"]),
                "version": await tx.max_assistant_version(assistant_id) + 1,
                "updated_at": now,
            }
            await tx.insert_assistant_version({**_version_of(record), "created_at": now})
            await tx.update_assistant(
                assistant_id, {k: v for k, v in record.items() if k != "assistant_id"}
            )
        return shape(record)

    async def delete(
        self, assistant_id: str, ctx: RequestContext, *, delete_threads: bool = False
    ) -> list[str]:
        """Deletes the assistant; returns the ids of threads to delete with it, if asked."""
        async with self.storage.begin() as tx:
            thread_ids = await tx.thread_ids_by_assistant(assistant_id) if delete_threads else []
            if not await tx.delete_assistant(assistant_id, ctx.filter_for("assistants")):
                raise NotFound(f"Assistant with ID {assistant_id} not found")
        return thread_ids

    async def search(self, body: dict, ctx: RequestContext) -> tuple[list[dict], bool]:
        limit, offset = body.get("limit", 10), body.get("offset", 0)
        async with self.storage.begin() as tx:
            rows = await tx.search_assistants(
                graph_id=body.get("graph_id"),
                name=body.get("name"),
                metadata=body.get("metadata"),
                limit=limit + 1,
                offset=offset,
                **sort_of(body),
                access=ctx.filter_for("assistants"),
            )
        return [shape(r) for r in rows[:limit]], len(rows) > limit

    async def count(self, body: dict, ctx: RequestContext) -> int:
        async with self.storage.begin() as tx:
            return await tx.count_assistants(
                graph_id=body.get("graph_id"),
                name=body.get("name"),
                metadata=body.get("metadata"),
                access=ctx.filter_for("assistants"),
            )

    async def versions(self, assistant_id: str, body: dict, ctx: RequestContext) -> list[dict]:
        await self.get(assistant_id, ctx)
        async with self.storage.begin() as tx:
            rows = await tx.list_assistant_versions(
                assistant_id,
                metadata=body.get("metadata"),
                limit=body.get("limit", 10),
                offset=body.get("offset", 0),
            )
        return [shape(r, VERSION_FIELDS) for r in rows]

    async def set_latest(self, assistant_id: str, version: Any, ctx: RequestContext) -> dict:
        async with self.storage.begin() as tx:
            current = await tx.get_assistant(assistant_id, ctx.filter_for("assistants"))
            if current is None:
                raise NotFound(f"Assistant {assistant_id} not found")
            chosen = (
                await tx.get_assistant_version(assistant_id, version)
                if isinstance(version, int)
                else None
            )
            if chosen is None:
                raise NotFound(f"Version {version} not found for assistant {assistant_id}")
            # Unlike the reference (which keeps the newest context), the whole version comes back.
            values: Json = {
                k: chosen[k]
                for k in (
                    "graph_id",
                    "config",
                    "context",
                    "metadata",
                    "name",
                    "description",
                    "version",
                )
            }
            values["updated_at"] = clock.now()
            await tx.update_assistant(assistant_id, values)
        return shape({**current, **values})


def _version_of(record: AssistantRecord) -> AssistantVersionRecord:
    """The version record of an assistant as it is now (VERSION_FIELDS, in that order)."""
    return {
        "assistant_id": record["assistant_id"],
        "version": record["version"],
        "graph_id": record["graph_id"],
        "config": record["config"],
        "context": record["context"],
        "metadata": record["metadata"],
        "created_at": record["created_at"],
        "name": record["name"],
        "description": record["description"],
    }
