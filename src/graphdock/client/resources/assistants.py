"""`client.assistants`: versioned configurations of a graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import httpx

from .._types import (
    Assistant,
    AssistantVersion,
    Config,
    GraphSchema,
    Json,
    OnConflictBehavior,
    Result,
    Subgraphs,
)
from .._wire import Request, path, truthy
from ._base import Resource

Headers = Mapping[str, str] | None


def _search_object(response: httpx.Response) -> dict[str, Any]:
    return {"assistants": response.json(), "next": response.headers.get("x-pagination-next")}


class AssistantsClient(Resource):
    """Create, read, update, delete and search assistants.

    Example:
        assistant = await client.assistants.create(graph_id="agent", name="Bot")
    """

    def get(
        self, assistant_id: str, *, headers: Headers = None, params: Any = None
    ) -> Result[Assistant]:
        """Get an assistant by id.

        Example:
            assistant = await client.assistants.get(assistant_id)
        """
        return self._call(
            Request("GET", path("/assistants/{}", assistant_id), headers=headers, params=params)
        )

    def get_graph(
        self,
        assistant_id: str,
        *,
        xray: int | bool = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Result[dict[str, list[dict[str, Any]]]]:
        """Get the drawable graph (`{"nodes", "edges"}`); `xray` expands subgraphs (True or a depth).

        Example:
            graph = await client.assistants.get_graph(assistant_id, xray=1)
        """
        query = {"xray": xray, **(params or {})}
        return self._call(
            Request(
                "GET", path("/assistants/{}/graph", assistant_id), headers=headers, params=query
            )
        )

    def get_schemas(
        self, assistant_id: str, *, headers: Headers = None, params: Any = None
    ) -> Result[GraphSchema]:
        """Get the graph's input/output/state/config/context JSON schemas.

        Example:
            schemas = await client.assistants.get_schemas(assistant_id)
        """
        return self._call(
            Request(
                "GET", path("/assistants/{}/schemas", assistant_id), headers=headers, params=params
            )
        )

    def get_subgraphs(
        self,
        assistant_id: str,
        namespace: str | None = None,
        recurse: bool = False,
        *,
        headers: Headers = None,
        params: Any = None,
    ) -> Result[Subgraphs]:
        """Get the schemas of the graph's subgraphs, optionally of one `namespace`, optionally recursively.

        Example:
            subgraphs = await client.assistants.get_subgraphs(assistant_id, recurse=True)
        """
        route = path("/assistants/{}/subgraphs", assistant_id)
        if namespace is not None:
            route += "/" + path("{}", namespace)
        query = {"recurse": recurse, **(params or {})}
        return self._call(Request("GET", route, headers=headers, params=query))

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
    ) -> Result[Assistant]:
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
        return self._call(Request("POST", "/assistants", json=body, headers=headers, params=params))

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
    ) -> Result[Assistant]:
        """Update an assistant (creates a new version). Metadata is merged; config/context replace.

        Example:
            await client.assistants.update(assistant_id, config={"configurable": {"model": "m2"}})
        """
        body = truthy(
            {"graph_id": graph_id, "metadata": metadata, "name": name, "description": description}
        )
        body.update({k: v for k, v in (("config", config), ("context", context)) if v is not None})
        return self._call(
            Request(
                "PATCH",
                path("/assistants/{}", assistant_id),
                json=body,
                headers=headers,
                params=params,
            )
        )

    def delete(
        self,
        assistant_id: str,
        *,
        delete_threads: bool = False,
        headers: Headers = None,
        params: Any = None,
    ) -> Result[None]:
        """Delete an assistant; `delete_threads=True` also deletes its threads.

        Example:
            await client.assistants.delete(assistant_id)
        """
        query = {"delete_threads": True, **(params or {})} if delete_threads else params
        return self._call(
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
    ) -> Result[list[Assistant] | dict[str, Any]]:
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
        reader = {"reader": _search_object} if response_format == "object" else {}
        return self._call(
            Request(
                "POST",
                "/assistants/search",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
                **reader,
            )
        )

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
    ) -> Any:
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

        return self._pages(page, page_size=page_size)

    def count(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Result[int]:
        """Count assistants matching the filters.

        Example:
            n = await client.assistants.count(graph_id="agent")
        """
        body = truthy({"metadata": metadata, "graph_id": graph_id, "name": name})
        return self._call(
            Request(
                "POST",
                "/assistants/count",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    def get_versions(
        self,
        assistant_id: str,
        metadata: Json = None,
        limit: int = 10,
        offset: int = 0,
        *,
        headers: Headers = None,
        params: Any = None,
    ) -> Result[list[AssistantVersion]]:
        """List an assistant's versions, newest first.

        Example:
            versions = await client.assistants.get_versions(assistant_id)
        """
        body = {"limit": limit, "offset": offset} | truthy({"metadata": metadata})
        return self._call(
            Request(
                "POST",
                path("/assistants/{}/versions", assistant_id),
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    def set_latest(
        self, assistant_id: str, version: int, *, headers: Headers = None, params: Any = None
    ) -> Result[Assistant]:
        """Make `version` the assistant's active version.

        Example:
            assistant = await client.assistants.set_latest(assistant_id, 1)
        """
        return self._call(
            Request(
                "POST",
                path("/assistants/{}/latest", assistant_id),
                json={"version": version},
                headers=headers,
                params=params,
            )
        )
