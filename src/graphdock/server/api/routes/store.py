"""/store: the long-term memory graphs share across threads (the same store as `get_store()`)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from graphdock.server.api import models
from graphdock.server.api.deps import services
from graphdock.server.api.responses import json_response, no_content

router = APIRouter(tags=["Store"])


@router.put("/store/items", summary="Store or update an item.", status_code=204)
async def put_item(body: models.StorePut, request: Request):
    await services(request).store_service.put(body.fields())
    return no_content()


@router.get("/store/items", summary="Retrieve a single item.")
async def get_item(
    request: Request, key: str | None = None, namespace: str = "", refresh_ttl: bool | None = None
):
    if key is None:
        # The reference's shape for this one error, which clients may match on.
        return json_response({"error": "Key is required"}, 400)
    labels = namespace.split(".")  # dot-joined on the wire; a missing one is an empty label
    item = await services(request).store_service.get(labels, key, refresh_ttl)
    return json_response(item)


@router.delete("/store/items", summary="Delete an item.", status_code=204)
async def delete_item(body: models.StoreDelete, request: Request):
    await services(request).store_service.delete(body.namespace, body.key)
    return no_content()


@router.post("/store/items/search", summary="Search or list items within a namespace prefix.")
async def search_items(body: models.StoreSearch, request: Request):
    return json_response(await services(request).store_service.search(body.fields()))


@router.post("/store/namespaces", summary="List namespaces with optional match conditions.")
async def list_namespaces(body: models.StoreListNamespaces, request: Request):
    return json_response(await services(request).store_service.list_namespaces(body.fields()))
