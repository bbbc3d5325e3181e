"""The long-term store through the official SDK: items, search (filters, semantic query),
namespaces, errors, TTL expiry, and the store graphs use through `get_store()`.

Every test works under a namespace root of its own (`unique`), so tests sharing the
session's server never see each other's items.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
import pytest

ITEM_KEYS = ["namespace", "key", "value", "created_at", "updated_at"]
SEARCH_KEYS = [*ITEM_KEYS, "score"]


@pytest.fixture
async def api(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        yield client


async def seed(sdk, root: str) -> None:
    """The reference capture's items, under `root`."""
    await sdk.store.put_item(
        [root, "u1"], "prefs", {"text": "likes dark mode and coffee", "theme": "dark", "n": 3}
    )
    await sdk.store.put_item(
        [root, "u1"], "bio", {"text": "software engineer who drinks tea", "n": 5}
    )
    await sdk.store.put_item(
        [root, "u2"], "prefs", {"text": "likes light mode", "theme": "light", "n": 7}, index=False
    )
    await sdk.store.put_item([root, "u2", "notes"], "n1", {"text": "remember the milk"})


def keys(result: dict) -> list[tuple]:
    return [(tuple(i["namespace"][1:]), i["key"]) for i in result["items"]]


async def test_put_get_delete(sdk, api, unique):
    value = {"text": "likes dark mode", "theme": "dark", "n": 3, "nested": {"a": [1, 2]}}
    r = await api.put(
        "/store/items", json={"namespace": [unique, "u1"], "key": "prefs", "value": value}
    )
    assert r.status_code == 204 and r.content == b""
    item = await sdk.store.get_item([unique, "u1"], "prefs")
    assert list(item) == ITEM_KEYS
    assert item["namespace"] == [unique, "u1"] and item["key"] == "prefs" and item["value"] == value
    created = datetime.fromisoformat(item["created_at"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    r = await api.get("/store/items", params={"namespace": f"{unique}.u1", "key": "prefs"})
    assert r.json() == item  # the namespace travels dot-joined in the query

    await sdk.store.put_item([unique, "u1"], "prefs", {"theme": "light"})  # replaces the value
    assert (await sdk.store.get_item([unique, "u1"], "prefs"))["value"] == {"theme": "light"}

    r = await api.get("/store/items", params={"namespace": f"{unique}.u1", "key": "missing"})
    assert (r.status_code, r.content) == (200, b"null")
    assert await sdk.store.get_item([unique, "u1"], "missing") is None

    r = await api.request(
        "DELETE", "/store/items", json={"namespace": [unique, "u1"], "key": "prefs"}
    )
    assert r.status_code == 204
    assert await sdk.store.get_item([unique, "u1"], "prefs") is None
    r = await api.request(
        "DELETE", "/store/items", json={"namespace": [unique, "u1"], "key": "prefs"}
    )
    assert r.status_code == 204  # deleting what is not there is fine


async def test_errors_are_4xx_naming_the_problem(api, unique):
    async def put(body):
        r = await api.put("/store/items", json=body)
        return r.status_code, r.json()

    label_error = "Namespace label '{}' must be a non-empty string without periods"
    assert await put({"namespace": ["a.b"], "key": "k", "value": {}}) == (
        422,
        {"detail": label_error.format("a.b")},
    )
    assert await put({"namespace": [unique, ""], "key": "k", "value": {}}) == (
        422,
        {"detail": label_error.format("")},
    )
    assert await put({"namespace": [], "key": "k", "value": {}}) == (
        400,
        {"detail": "Namespace cannot be empty."},
    )
    status, body = await put({"namespace": [unique], "key": "k", "value": "not-an-object"})
    assert status == 422 and "value" in body["detail"]
    status, body = await put({"namespace": [unique], "value": {}})
    assert status == 422 and "key" in body["detail"]
    status, body = await put({"namespace": [unique], "key": "k", "value": {}, "ttl": -1})
    assert status == 422 and "ttl" in body["detail"]

    r = await api.get("/store/items", params={"namespace": unique})
    assert (r.status_code, r.json()) == (400, {"error": "Key is required"})
    r = await api.get("/store/items", params={"key": "prefs"})
    assert (r.status_code, r.json()) == (422, {"detail": label_error.format("")})
    r = await api.get("/store/items", params={"namespace": f"{unique}..x", "key": "k"})
    assert (r.status_code, r.json()) == (422, {"detail": label_error.format("")})

    r = await api.post(
        "/store/items/search", json={"namespace_prefix": [unique], "filter": {"n": {"$regex": "x"}}}
    )
    assert r.status_code == 422 and "$regex" in r.json()["detail"]
    r = await api.post(
        "/store/items/search", json={"namespace_prefix": [unique], "filter": {"a b": 1}}
    )
    assert r.status_code == 422 and "'a b'" in r.json()["detail"]
    r = await api.post("/store/items/search", json={"namespace_prefix": ["x.y"]})
    assert (r.status_code, r.json()) == (422, {"detail": label_error.format("x.y")})
    r = await api.post("/store/namespaces", json={"prefix": [""]})
    assert (r.status_code, r.json()) == (422, {"detail": label_error.format("")})


async def test_search_prefix_filters_and_pages(sdk, api, unique):
    await seed(sdk, unique)
    everything = await sdk.store.search_items([unique])
    assert all(list(i) == SEARCH_KEYS and i["score"] is None for i in everything["items"])
    assert sorted(keys(everything)) == sorted(
        [(("u1",), "prefs"), (("u1",), "bio"), (("u2",), "prefs"), (("u2", "notes"), "n1")]
    )
    under_u2 = sorted(keys(await sdk.store.search_items([unique, "u2"])))
    assert under_u2 == [(("u2",), "prefs"), (("u2", "notes"), "n1")]

    async def where(flt):
        return sorted(keys(await sdk.store.search_items([unique], filter=flt)))

    assert await where({"theme": "dark"}) == [(("u1",), "prefs")]
    # Items lacking `n` are simply not matched (the reference answers 500 here).
    assert await where({"n": {"$gt": 4}}) == [(("u1",), "bio"), (("u2",), "prefs")]
    assert await where({"n": {"$gte": 5, "$lt": 7}}) == [(("u1",), "bio")]
    assert await where({"n": {"$lte": 3}}) == [(("u1",), "prefs")]
    assert await where({"n": {"$eq": 7}}) == [(("u2",), "prefs")]
    assert await where({"theme": {"$ne": "dark"}}) == [(("u2",), "prefs")]
    assert await where({"theme": "dark", "n": 3}) == [(("u1",), "prefs")]
    assert await where({"theme": "none"}) == []

    first = await sdk.store.search_items([unique], limit=2)
    rest = await sdk.store.search_items([unique], limit=2, offset=2)
    assert len(first["items"]) == 2 and len(rest["items"]) == 2
    assert sorted(keys(first) + keys(rest)) == sorted(keys(everything))
    r = await api.post("/store/items/search", json={"namespace_prefix": ["nothing-" + unique]})
    assert (r.status_code, r.json()) == (200, {"items": []})
    r = await api.post("/store/items/search", json={})  # the reference answers 500 here
    assert r.status_code == 200 and isinstance(r.json()["items"], list)
    assert "x-pagination-total" not in r.headers


@pytest.mark.sqlite_only  # langgraph's Postgres store reads filter keys as top-level fields
async def test_nested_filter(sdk, unique):
    await sdk.store.put_item([unique], "a", {"meta": {"kind": "x", "rank": 2}})
    await sdk.store.put_item([unique], "b", {"meta": {"kind": "y", "rank": 5}})
    found = await sdk.store.search_items([unique], filter={"meta": {"kind": "y"}})
    assert [i["key"] for i in found["items"]] == ["b"]
    found = await sdk.store.search_items([unique], filter={"meta.rank": {"$lt": 3}})
    assert [i["key"] for i in found["items"]] == ["a"]


async def test_semantic_search_ranks_nearest_first(sdk, unique, request):
    await seed(sdk, unique)
    result = await sdk.store.search_items([unique], query="tea drinker engineer")
    items = result["items"]
    if "postgres" in request.node.name and all(i["score"] is None for i in items):
        pytest.skip("this PostgreSQL has no pgvector: the server runs without semantic search")
    assert all(list(i) == SEARCH_KEYS for i in items)
    assert (tuple(items[0]["namespace"]), items[0]["key"]) == ((unique, "u1"), "bio")
    scores = [i["score"] for i in items if i["score"] is not None]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(0.6, abs=1e-6)  # the reference's score for this pair
    # The item stored with index=False is still listed, last, unscored.
    assert (tuple(items[-1]["namespace"]), items[-1]["key"], items[-1]["score"]) == (
        (unique, "u2"),
        "prefs",
        None,
    )
    paged = await sdk.store.search_items([unique], query="tea drinker engineer", limit=1, offset=3)
    assert [(i["key"], i["score"]) for i in paged["items"]] == [("prefs", None)]
    second = await sdk.store.search_items([unique], query="tea drinker engineer", limit=1, offset=1)
    assert second["items"][0]["score"] == pytest.approx(scores[1])
    near_milk = await sdk.store.search_items(
        [unique], query="the milk", filter={"text": "remember the milk"}
    )
    assert [i["key"] for i in near_milk["items"]] == ["n1"] and near_milk["items"][0]["score"] > 0.5


async def test_list_namespaces(sdk, api, unique):
    await seed(sdk, unique)
    await sdk.store.put_item([unique, "other"], "x", {"a": 1}, index=["a"])
    got = await sdk.store.list_namespaces(prefix=[unique])
    assert got == {
        "namespaces": [[unique, "other"], [unique, "u1"], [unique, "u2"], [unique, "u2", "notes"]]
    }
    got = await sdk.store.list_namespaces(prefix=[unique], max_depth=2)
    assert got["namespaces"] == [[unique, "other"], [unique, "u1"], [unique, "u2"]]
    got = await sdk.store.list_namespaces(prefix=[unique], suffix=["notes"])
    assert got["namespaces"] == [[unique, "u2", "notes"]]
    got = await sdk.store.list_namespaces(prefix=[unique], limit=1, offset=1)
    assert got["namespaces"] == [[unique, "u1"]]
    r = await api.post("/store/namespaces", json={})
    assert r.status_code == 200 and [unique, "u1"] in r.json()["namespaces"]


async def test_graph_store_is_the_api_store(sdk):
    result = await sdk.runs.wait(None, "storegraph", input={})
    assert "k1" in result["found"]
    item = await sdk.store.get_item(["graph", "mem"], "k1")
    assert item["value"] == {"text": "remembered from graph"}
    # And the other way: what the API writes, a graph's search sees.
    await sdk.store.put_item(["graph", "mem"], "from-api", {"text": "written by a client"})
    result = await sdk.runs.wait(None, "storegraph", input={})
    assert "from-api" in result["found"]


async def test_ttl_expires_items_and_threads(server_process, unique, request):
    from langgraph_sdk import get_client
    from langgraph_sdk.errors import NotFoundError

    server = server_process(env={"GRAPHDOCK_TTL_SWEEP_SECONDS": "0.2"})
    sdk = get_client(url=server.url, api_key=None)
    # TTLs are minutes on the wire; fractions make "expired" arrive within the test.
    put_at = time.monotonic()
    await sdk.store.put_item([unique], "short", {"text": "gone soon"}, ttl=0.02)  # 1.2 s
    await sdk.store.put_item([unique], "refreshed", {"text": "kept alive"}, ttl=0.04)  # 2.4 s
    await sdk.store.put_item([unique], "forever", {"text": "no ttl"})
    thread_at = time.monotonic()
    thread = await sdk.threads.create(ttl={"strategy": "delete", "ttl": 0.02})
    keeper = await sdk.threads.create()
    short = await sdk.store.get_item([unique], "short", refresh_ttl=False)
    assert short["value"] == {"text": "gone soon"}

    started = time.monotonic()
    short_gone = thread_gone = None
    # Until both are gone, and for longer than "refreshed" would live unread (2.4 s).
    while time.monotonic() - started < 8 and (
        short_gone is None or thread_gone is None or time.monotonic() - started < 3.5
    ):
        await sdk.store.get_item([unique], "refreshed", refresh_ttl=True)  # reads push it on
        if (
            short_gone is None
            and await sdk.store.get_item([unique], "short", refresh_ttl=False) is None
        ):
            short_gone = time.monotonic() - put_at
        if thread_gone is None:
            try:
                await sdk.threads.get(thread["thread_id"])
            except NotFoundError:
                thread_gone = time.monotonic() - thread_at
        await asyncio.sleep(0.2)
    assert short_gone is not None, "an item with a 1.2 s TTL outlived 8 s of sweeps"
    assert thread_gone is not None, "a thread with a 1.2 s TTL outlived 8 s of sweeps"
    assert short_gone >= 1.0 and thread_gone >= 1.0  # not before their time (1.2 s)
    # Refreshed on every read for longer than its TTL: still there; the others never expire.
    # langgraph's Postgres store keeps ttl_minutes as an integer, so a refresh of a
    # fractional TTL expires the item at once there; refresh is checked on SQLite only.
    refreshes = "postgres" not in request.node.name
    if refreshes:
        assert (await sdk.store.get_item([unique], "refreshed"))["value"] == {"text": "kept alive"}
    assert (await sdk.store.get_item([unique], "forever"))["value"] == {"text": "no ttl"}
    assert (await sdk.threads.get(keeper["thread_id"]))["thread_id"] == keeper["thread_id"]
    found = await sdk.store.search_items([unique])
    assert (
        sorted(i["key"] for i in found["items"])
        == ["forever", "refreshed"][: 2 if refreshes else 1]
    )
