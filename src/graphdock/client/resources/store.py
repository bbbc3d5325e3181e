"""`client.store`: the long-term key-value store shared by graphs and clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import httpx

from .._endpoints import AsyncResource, Call, Pages, SyncResource, endpoint
from .._types import Item, ListNamespaceResponse, SearchItem, SearchItemsResponse
from .._wire import Request, compact, merge_params, read_json

Headers = Mapping[str, str] | None


def _dotted(namespace: Sequence[str]) -> str:
    for label in namespace:
        if "." in label:
            raise ValueError(
                f"Invalid namespace label '{label}'. Namespace labels cannot contain periods ('.')."
            )
    return ".".join(namespace)


def _items_list(response: httpx.Response) -> list[SearchItem]:
    items: list[SearchItem] = (read_json(response) or {}).get("items", [])
    return items


def _put(
    namespace: Sequence[str],
    key: str,
    value: Mapping[str, Any],
    index: Literal[False] | list[str] | None,
    ttl: int | None,
    headers: Headers,
    params: Any,
) -> Request:
    _dotted(namespace)
    body = compact(
        {"namespace": list(namespace), "key": key, "value": value, "index": index, "ttl": ttl}
    )
    return Request("PUT", "/store/items", json=body, headers=headers, params=params)


def _get(
    namespace: Sequence[str], key: str, refresh_ttl: bool | None, headers: Headers, params: Any
) -> Request:
    query = merge_params(
        {"namespace": _dotted(namespace), "key": key} | compact({"refresh_ttl": refresh_ttl}),
        params,
    )
    return Request("GET", "/store/items", params=query, headers=headers)


def _delete(namespace: Sequence[str], key: str, headers: Headers, params: Any) -> Request:
    return Request(
        "DELETE",
        "/store/items",
        json={"namespace": list(namespace), "key": key},
        headers=headers,
        params=params,
    )


class StoreEndpoints:
    """The `/store` endpoints, defined once for both clients (official and seed names)."""

    @endpoint
    def put_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        ttl: int | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[None]:
        """Store `value` under `namespace`/`key`; `index` picks fields to embed (False: none); `ttl` in minutes.

        Example:
            await client.store.put_item(["docs"], "d1", {"text": "hello"})
        """
        return Call(_put(namespace, key, value, index, ttl, headers, params))

    @endpoint
    def get_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        *,
        refresh_ttl: bool | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[Item | None]:
        """Get one item (None if it does not exist).

        Example:
            item = await client.store.get_item(["docs"], "d1")
        """
        return Call(_get(namespace, key, refresh_ttl, headers, params))

    @endpoint
    def delete_item(
        self, namespace: Sequence[str], /, key: str, headers: Headers = None, params: Any = None
    ) -> Call[None]:
        """Delete one item.

        Example:
            await client.store.delete_item(["docs"], "d1")
        """
        return Call(_delete(namespace, key, headers, params))

    def _search(
        self,
        namespace_prefix: Sequence[str],
        filter: Mapping[str, Any] | None,
        limit: int,
        offset: int,
        query: str | None,
        refresh_ttl: bool | None,
        headers: Headers,
        params: Any,
        **kw: Any,
    ) -> Request:
        body = {
            "namespace_prefix": list(namespace_prefix),
            "limit": limit,
            "offset": offset,
        } | compact({"filter": filter, "query": query, "refresh_ttl": refresh_ttl})
        return Request(
            "POST",
            "/store/items/search",
            json=body,
            headers=headers,
            params=params,
            idempotent=True,
            **kw,
        )

    @endpoint
    def search_items(
        self,
        namespace_prefix: Sequence[str],
        /,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        query: str | None = None,
        refresh_ttl: bool | None = None,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[SearchItemsResponse]:
        """Search items under a namespace prefix by exact-match `filter` and/or semantic `query`.

        Example:
            result = await client.store.search_items(["docs"], query="greeting")
            for item in result["items"]:
                print(item["key"], item["score"])
        """
        return Call(
            self._search(
                namespace_prefix, filter, limit, offset, query, refresh_ttl, headers, params
            )
        )

    @endpoint
    def iter_search_items(
        self,
        namespace_prefix: Sequence[str],
        /,
        filter: Mapping[str, Any] | None = None,
        query: str | None = None,
        page_size: int = 100,
        headers: Headers = None,
    ) -> Pages[SearchItem]:
        """Iterate over every matching item, `page_size` per request.

        Example:
            async for item in client.store.iter_search_items(["docs"]):
                print(item["key"])
        """

        def page(offset: int, limit: int) -> Request:
            return self._search(namespace_prefix, filter, limit, offset, query, None, headers, None)

        return Pages(page, page_size=page_size, items=lambda body: (body or {}).get("items", []))

    @endpoint
    def list_namespaces(
        self,
        prefix: Sequence[str] | None = None,
        suffix: Sequence[str] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
        headers: Headers = None,
        params: Any = None,
    ) -> Call[ListNamespaceResponse]:
        """List namespaces, optionally matching a prefix/suffix and truncated to `max_depth`.

        Example:
            result = await client.store.list_namespaces(prefix=["users"])
        """
        body = compact(
            {
                "prefix": list(prefix) if prefix else None,
                "suffix": list(suffix) if suffix else None,
                "max_depth": max_depth,
            }
        ) | {"limit": limit, "offset": offset}
        return Call(
            Request(
                "POST",
                "/store/namespaces",
                json=body,
                headers=headers,
                params=params,
                idempotent=True,
            )
        )

    # Seed API names ---------------------------------------------------------------------

    @endpoint
    def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: Mapping[str, Any],
        *,
        index: Literal[False] | list[str] | None = None,
        ttl: int | None = None,
        headers: Headers = None,
    ) -> Call[None]:
        """Store an item (seed name of `put_item`).

        Example:
            await client.store.put(namespace=["users", "123"], key="prefs", value={"risk": "moderate"})
        """
        return Call(_put(namespace, key, value, index, ttl, headers, None))

    @endpoint
    def get(
        self, namespace: Sequence[str], key: str, *, headers: Headers = None
    ) -> Call[Item | None]:
        """Get an item (seed name of `get_item`).

        Example:
            prefs = await client.store.get(namespace=["users", "123"], key="prefs")
        """
        return Call(_get(namespace, key, None, headers, None))

    @endpoint
    def delete(self, namespace: Sequence[str], key: str, *, headers: Headers = None) -> Call[None]:
        """Delete an item (seed name of `delete_item`).

        Example:
            await client.store.delete(namespace=["users", "123"], key="prefs")
        """
        return Call(_delete(namespace, key, headers, None))

    @endpoint
    def search(
        self,
        namespace: Sequence[str],
        *,
        query: str | None = None,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        headers: Headers = None,
    ) -> Call[list[SearchItem]]:
        """Search items and return them as a plain list (seed API; `search_items` returns `{"items": [...]}`).

        Example:
            items = await client.store.search(namespace=["users"], filter={"risk": "moderate"})
        """
        return Call(
            self._search(
                namespace, filter, limit, offset, query, None, headers, None, reader=_items_list
            )
        )


class StoreClient(StoreEndpoints, AsyncResource):
    """Put, get, search and delete items under hierarchical namespaces.

    Example:
        await client.store.put_item(["users", "123"], "prefs", {"theme": "dark"})
    """


class SyncStoreClient(StoreEndpoints, SyncResource):
    """Put, get, search and delete items under hierarchical namespaces.

    Example:
        client.store.put_item(["users", "123"], "prefs", {"theme": "dark"})
    """
