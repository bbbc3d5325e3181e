"""/store: the long-term memory graphs share across threads (the same store as `get_store()`).

Store handlers (`@auth.on.store`) scope what a caller reaches by rewriting the namespace
(say, prefixing the user's identity); a filter they return narrows a search further.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from graphdock.server.api import models
from graphdock.server.api.access import requires
from graphdock.server.api.caller import CallerDep
from graphdock.server.api.deps import services
from graphdock.server.api.errors import ApiError
from graphdock.server.api.responses import json_response, no_content
from graphdock.server.api.routing import api_router

router = api_router(tags=["Store"])


def _namespace(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else ()


@router.put("/store/items", summary="Store or update an item.", status_code=204)
@requires("store.put")
async def put_item(body: models.StorePut, request: Request, caller: CallerDep):
    fields = body.fields()
    value = {
        "namespace": tuple(body.namespace),
        "key": body.key,
        "value": body.value,
        "index": body.index,
        "ttl": body.ttl,
    }
    writable = ("namespace", "key", "value", "index", "ttl")
    await caller.authorize("store.put", value, target=fields, writable=writable)
    await services(request).store_service.put(fields)
    return no_content()


@router.get("/store/items", summary="Retrieve a single item.")
@requires("store.get")
async def get_item(
    request: Request,
    caller: CallerDep,
    key: str | None = None,
    namespace: str = "",
    refresh_ttl: bool | None = None,
):
    labels = namespace.split(".")  # dot-joined on the wire; a missing one is an empty label
    value = {"namespace": tuple(labels), "key": key, "refresh_ttl": refresh_ttl}
    await caller.authorize("store.get", value)
    if value.get("key") is None:
        # The reference's shape for this one error, which clients may match on.
        return json_response({"error": "Key is required"}, 400)
    scoped = [str(label) for label in _namespace(value.get("namespace"))]
    if scoped != labels and any("." in label for label in scoped):
        raise ApiError(422, "Namespace labels must not contain periods")
    item = await services(request).store_service.get(scoped, str(value["key"]), refresh_ttl)
    return json_response(item)


@router.delete("/store/items", summary="Delete an item.", status_code=204)
@requires("store.delete")
async def delete_item(body: models.StoreDelete, request: Request, caller: CallerDep):
    value = {"namespace": tuple(body.namespace), "key": body.key}
    await caller.authorize("store.delete", value)
    namespace = list(_namespace(value.get("namespace")))
    await services(request).store_service.delete(namespace, str(value.get("key")))
    return no_content()


@router.post("/store/items/search", summary="Search or list items within a namespace prefix.")
@requires("store.search")
async def search_items(body: models.StoreSearch, request: Request, caller: CallerDep):
    fields = body.fields()
    value = {
        "namespace": _namespace(body.namespace_prefix),
        "filter": body.filter,
        "limit": body.limit,
        "offset": body.offset,
        "query": body.query,
        "refresh_ttl": body.refresh_ttl,
    }
    flt = await caller.authorize("store.search", value)
    fields["namespace_prefix"] = list(_namespace(value.get("namespace")))
    wanted = value.get("filter")
    if flt:
        # the handler's filter wins on any key both name: a caller cannot widen it
        wanted = {**(wanted if isinstance(wanted, dict) else {}), **flt}
    if wanted is not None:
        fields["filter"] = wanted
    return json_response(await services(request).store_service.search(fields))


@router.post("/store/namespaces", summary="List namespaces with optional match conditions.")
@requires("store.list_namespaces")
async def list_namespaces(body: models.StoreListNamespaces, request: Request, caller: CallerDep):
    fields = body.fields()
    value: dict[str, Any] = {  # the handler's to change
        "namespace": _namespace(body.prefix) if body.prefix else None,
        "suffix": _namespace(body.suffix) if body.suffix else None,
        "max_depth": body.max_depth,
        "limit": body.limit,
        "offset": body.offset,
    }
    await caller.authorize("store.list_namespaces", value)
    for key, name in (("namespace", "prefix"), ("suffix", "suffix")):
        scoped = value.get(key)
        fields[name] = list(scoped) if scoped else None
    return json_response(await services(request).store_service.list_namespaces(fields))
