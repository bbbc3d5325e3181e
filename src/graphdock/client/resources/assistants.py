"""`client.assistants`: versioned configurations of a graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

import httpx

from .._endpoints import (
    AsyncResource,
    Call,
    Pages,
    SyncResource,
    endpoint,
    overloaded_endpoint,
)
from .._types import (
    Assistant,
    AssistantsSearchResponse,
    AssistantVersion,
    Config,
    GraphSchema,
    Json,
    OnConflictBehavior,
    Subgraphs,
)
from .._wire import Request, path, read_json, truthy

Headers = Mapping[str, str] | None


def _search_object(response: httpx.Response) -> AssistantsSearchResponse:
    return {"assistants": response.json(), "next": response.headers.get("x-pagination-next")}


class _SearchForms(Protocol):
    """`assistants.search` gives a list, or `{"assistants", "next"}` with `response_format="object"`."""

    def as_list(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        response_format: Literal["array"] = "array",
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[Assistant]]: ...

    def as_object(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        response_format: Literal["object"],
        headers: Headers = None,
        params: Any = None,
    ) -> Call[AssistantsSearchResponse]: ...


class AssistantsEndpoints:
    """The `/assistants` endpoints, each defined once for both clients."""

    @endpoint
    def get(
        self, assistant_id: str, *, headers: Headers = None, params: Any = None
    ) -> Call[Assistant]:
        """Get an assistant by id.

        Example:
            assistant = await client.assistants.get(assistant_id)
        """
        return Call(
            Request("GET", path("/assistants/{}", assistant_id), headers=headers, params=params)
        )

    @endpoint
    def get_graph(
        self,
        assistant_id: str,
        *,
        xray: int | bool = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[dict[str, list[dict[str, Any]]]]:
        """Get the drawable graph (`{"nodes", "edges"}`); `xray` expands subgraphs (True or a depth).

        Example:
            graph = await client.assistants.get_graph(assistant_id, xray=1)
        """
        query = {"xray": xray, **(params or {})}
        return Call(
            Request(
                "GET", path("/assistants/{}/graph", assistant_id), headers=headers, params=query
            )
        )

    @endpoint
    def get_schemas(
        self, assistant_id: str, *, headers: Headers = None, params: Any = None
    ) -> Call[GraphSchema]:
        """Get the graph's input/output/state/config/context JSON schemas.

        Example:
            schemas = await client.assistants.get_schemas(assistant_id)
        """
        return Call(
            Request(
                "GET", path("/assistants/{}/schemas", assistant_id), headers=headers, params=params
            )
        )

    @endpoint
    def get_subgraphs(
        self,
        assistant_id: str,
        namespace: str | None = None,
        recurse: bool = False,
        *,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Subgraphs]:
        """Get the schemas of the graph's subgraphs, optionally of one `namespace`, optionally recursively.

        Example:
            subgraphs = await client.assistants.get_subgraphs(assistant_id, recurse=True)
        """
        route = path("/assistants/{}/subgraphs", assistant_id)
        if namespace is not None:
            route += "/" + path("{}", namespace)
        query = {"recurse": recurse, **(params or {})}
        return Call(Request("GET", route, headers=headers, params=query))

    @endpoint
    def create(
        self,
        graph_id: str | None,
        config: Config | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        metadata: Json = None,
        assistant_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        name: str | None = None,
        headers: Headers = None,
        description: str | None = None,
        params: Any = None,
    ) -> Call[Assistant]:
        """Create an assistant for `graph_id`. `if_exists="do_nothing"` returns an existing one.

        Example:
            assistant = await client.assistants.create(
                graph_id="agent", config={"configurable": {"model": "m"}}, name="Bot"
            )
        """
        body = {"graph_id": graph_id} | truthy(
            {
                "config": config,
                "context": context,
                "metadata": metadata,
                "assistant_id": assistant_id,
                "if_exists": if_exists,
                "name": name,
                "description": description,
            }
        )
        return Call(Request("POST", "/assistants", json=body, headers=headers, params=params))

    @endpoint
    def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Config | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Json = None,
        name: str | None = None,
        headers: Headers = None,
        description: str | None = None,
        params: Any = None,
    ) -> Call[Assistant]:
        """Update an assistant (creates a new version). Metadata is merged; config/context replace.

        Example:
            await client.assistants.update(assistant_id, config={"configurable": {"model": "m2"}})
        """
        body = truthy(
            {"graph_id": graph_id, "metadata": metadata, "name": name, "description": description}
        )
        body.update({k: v for k, v in (("config", config), ("context", context)) if v is not None})
        return Call(
            Request(
                "PATCH",
                path("/assistants/{}", assistant_id),
                json=body,
                headers=headers,
                params=params,
            )
        )

    @endpoint
    def delete(
        self,
        assistant_id: str,
        *,
        delete_threads: bool = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[None]:
        """Delete an assistant; `delete_threads=True` also deletes its threads.

        Example:
            await client.assistants.delete(assistant_id)
        """
        query = {"delete_threads": True, **(params or {})} if delete_threads else params
        return Call(
            Request("DELETE", path("/assistants/{}", assistant_id), headers=headers, params=query)
        )

    def _search_body(
        self,
        metadata: Json,
        graph_id: str | None,
        name: str | None,
        limit: int,
        offset: int,
        sort_by: str | None,
        sort_order: str | None,
        select: list[str] | None,
    ) -> dict[str, Any]:
        return {"limit": limit, "offset": offset} | truthy(
            {
                "metadata": metadata,
                "graph_id": graph_id,
                "name": name,
                "sort_by": sort_by,
                "sort_order": sort_order,
                "select": select,
            }
        )

    @overloaded_endpoint(_SearchForms.as_list, _SearchForms.as_object)
    def search(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        response_format: Literal["array", "object"] = "array",
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[Assistant] | AssistantsSearchResponse]:
        """Search assistants. `response_format="object"` gives `{"assistants", "next"}`.

        Example:
            assistants = await client.assistants.search(metadata={"type": "x"}, limit=5)
        """
        if response_format not in ("array", "object"):
            raise ValueError(
                f"response_format must be 'array' or 'object', got {response_format!r}"
            )
        body = self._search_body(
            metadata, graph_id, name, limit, offset, sort_by, sort_order, select
        )
        reader = _search_object if response_format == "object" else read_json
        return Call(
            Request(
                "POST",
                "/assistants/search",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
                reader=reader,
            )
        )

    @endpoint
    def iter_search(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: list[str] | None = None,
        page_size: int = 100,
        headers: Headers = None,
    ) -> Pages[Assistant]:
        """Iterate over every matching assistant, fetching `page_size` per request.

        Example:
            async for assistant in client.assistants.iter_search(graph_id="agent"):
                print(assistant["assistant_id"])
        """

        def page(offset: int, limit: int) -> Request:
            body = self._search_body(
                metadata, graph_id, name, limit, offset, sort_by, sort_order, select
            )
            return Request(
                "POST", "/assistants/search", json=body, headers=headers, idempotent=True
            )

        return Pages(page, page_size=page_size)

    @endpoint
    def count(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[int]:
        """Count assistants matching the filters.

        Example:
            n = await client.assistants.count(graph_id="agent")
        """
        body = truthy({"metadata": metadata, "graph_id": graph_id, "name": name})
        return Call(
            Request(
                "POST",
                "/assistants/count",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    @endpoint
    def get_versions(
        self,
        assistant_id: str,
        metadata: Json = None,
        limit: int = 10,
        offset: int = 0,
        *,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[list[AssistantVersion]]:
        """List an assistant's versions, newest first.

        Example:
            versions = await client.assistants.get_versions(assistant_id)
        """
        body = {"limit": limit, "offset": offset} | truthy({"metadata": metadata})
        return Call(
            Request(
                "POST",
                path("/assistants/{}/versions", assistant_id),
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    @endpoint
    def set_latest(
        self, assistant_id: str, version: int, *, headers: Headers = None, params: Any = None
    ) -> Call[Assistant]:
        """Make `version` the assistant's active version.

        Example:
            assistant = await client.assistants.set_latest(assistant_id, 1)
        """
        return Call(
            Request(
                "POST",
                path("/assistants/{}/latest", assistant_id),
                json={"version": version},
                headers=headers,
                params=params,
            )
        )


class AssistantsClient(AssistantsEndpoints, AsyncResource):
    """Create, read, update, delete and search assistants.

    Example:
        assistant = await client.assistants.create(graph_id="agent", name="Bot")
    """


class SyncAssistantsClient(AssistantsEndpoints, SyncResource):
    """Create, read, update, delete and search assistants.

    Example:
        assistant = client.assistants.create(graph_id="agent", name="Bot")
    """
