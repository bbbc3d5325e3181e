"""The same calls through graphdock and through the official langgraph_sdk 0.4.14 client put the
same requests on the wire (method, path, query, JSON body, notable headers).

Both clients talk to a recording `httpx.MockTransport`; nothing is sent anywhere.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime

import httpx
import pytest

from graphdock.client import LangGraphClient, SyncLangGraphClient

langgraph_sdk = pytest.importorskip("langgraph_sdk")
from langgraph_sdk.client import LangGraphClient as OfficialClient  # noqa: E402
from langgraph_sdk.client import SyncLangGraphClient as OfficialSyncClient  # noqa: E402

NOTABLE_HEADERS = ("last-event-id", "prefer", "accept", "content-type")
CHECKPOINT = {"thread_id": "t1", "checkpoint_ns": "", "checkpoint_id": "c1"}

CALLS = [
    ("assistants.get", ("a1",), {}),
    ("assistants.get_graph", ("a1",), {"xray": 2}),
    ("assistants.get_schemas", ("a1",), {}),
    ("assistants.get_subgraphs", ("a1", "child"), {"recurse": True}),
    (
        "assistants.create",
        ("agent", {"tags": ["x"]}),
        {
            "metadata": {"m": 1},
            "name": "n",
            "if_exists": "do_nothing",
            "description": "d",
            "assistant_id": "a1",
        },
    ),
    ("assistants.create", (None,), {}),
    (
        "assistants.update",
        ("a1",),
        {
            "graph_id": "agent",
            "config": {},
            "context": {"k": 1},
            "metadata": {"m": 2},
            "name": "n2",
        },
    ),
    ("assistants.delete", ("a1",), {"delete_threads": True}),
    ("assistants.delete", ("a1",), {}),
    (
        "assistants.search",
        (),
        {
            "metadata": {"m": 1},
            "graph_id": "agent",
            "name": "x",
            "limit": 3,
            "offset": 6,
            "sort_by": "name",
            "sort_order": "asc",
            "select": ["assistant_id"],
        },
    ),
    ("assistants.count", (), {"graph_id": "agent"}),
    ("assistants.get_versions", ("a1",), {"metadata": {"m": 1}, "limit": 2}),
    ("assistants.set_latest", ("a1", 3), {}),
    ("threads.get", ("t1",), {"include": ["ttl", "x"]}),
    (
        "threads.create",
        (),
        {
            "metadata": {"m": 1},
            "thread_id": "t1",
            "if_exists": "raise",
            "graph_id": "agent",
            "ttl": 5,
        },
    ),
    (
        "threads.create",
        (),
        {"supersteps": [{"updates": [{"values": {"a": 1}, "as_node": "a"}]}], "graph_id": "agent"},
    ),
    (
        "threads.update",
        ("t1",),
        {"metadata": {"k": 1}, "ttl": {"ttl": 3, "strategy": "delete"}, "return_minimal": True},
    ),
    ("threads.delete", ("t1",), {}),
    (
        "threads.search",
        (),
        {
            "metadata": {"m": 1},
            "values": {"v": 1},
            "ids": ["t1"],
            "status": "idle",
            "limit": 4,
            "sort_by": "created_at",
            "select": ["thread_id"],
            "extract": {"c": "values.count"},
        },
    ),
    ("threads.count", (), {"status": "busy"}),
    ("threads.copy", ("t1",), {}),
    ("threads.prune", (["t1", "t2"],), {"strategy": "keep_latest"}),
    ("threads.get_state", ("t1",), {}),
    ("threads.get_state", ("t1", CHECKPOINT), {"subgraphs": True, "select": ["values"]}),
    (
        "threads.get_state",
        ("t1",),
        {"checkpoint_id": "c1", "subgraphs": True, "select": ["values", "next"]},
    ),
    ("threads.update_state", ("t1", {"a": 1}), {"as_node": "a", "checkpoint_id": "c1"}),
    ("threads.update_state", ("t1", None), {"checkpoint": CHECKPOINT}),
    (
        "threads.get_history",
        ("t1",),
        {
            "limit": 3,
            "before": {"configurable": {"checkpoint_id": "c1"}},
            "metadata": {"step": 1},
            "select": ["values"],
        },
    ),
    (
        "threads.join_stream",
        ("t1",),
        {"last_event_id": "5", "stream_mode": ["lifecycle", "run_modes"]},
    ),
    (
        "runs.create",
        ("t1", "agent"),
        {
            "input": {"x": 1},
            "metadata": {"m": 1},
            "config": {"tags": ["t"]},
            "interrupt_before": ["a"],
            "multitask_strategy": "enqueue",
            "if_not_exists": "create",
            "after_seconds": 2,
            "durability": "sync",
            "command": {"resume": 1, "goto": None},
        },
    ),
    (
        "runs.create",
        (None, "agent"),
        {
            "webhook": "http://hook",
            "on_completion": "keep",
            "langsmith_tracing": {"project_name": "p"},
        },
    ),
    (
        "runs.stream",
        ("t1", "agent"),
        {
            "input": {},
            "stream_mode": ["values", "messages-tuple"],
            "stream_subgraphs": True,
            "stream_resumable": True,
            "feedback_keys": ["k"],
            "on_disconnect": "cancel",
            "checkpoint": CHECKPOINT,
        },
    ),
    ("runs.stream", (None, "agent"), {}),
    (
        "runs.wait",
        ("t1", "agent"),
        {
            "input": {"x": 1},
            "context": {"c": 1},
            "on_disconnect": "continue",
            "strict_resume": True,
        },
    ),
    ("runs.wait", (None, "agent"), {"on_completion": "delete"}),
    (
        "runs.list",
        ("t1",),
        {"limit": 5, "offset": 1, "status": "success", "select": ["run_id", "status"]},
    ),
    ("runs.get", ("t1", "r1"), {}),
    ("runs.cancel", ("t1", "r1"), {}),
    ("runs.cancel", ("t1", "r1"), {"wait": True, "action": "rollback"}),
    ("runs.cancel_many", (), {"thread_id": "t1", "run_ids": ["r1"], "action": "rollback"}),
    ("runs.cancel_many", (), {"status": "pending"}),
    ("runs.join", ("t1", "r1"), {}),
    ("runs.join_stream", ("t1", "r1"), {}),
    (
        "runs.join_stream",
        ("t1", "r1"),
        {"cancel_on_disconnect": True, "stream_mode": ["updates", "values"], "last_event_id": "3"},
    ),
    ("runs.delete", ("t1", "r1"), {}),
    ("runs.create_batch", ([{"assistant_id": "agent", "input": {}, "metadata": None}],), {}),
    (
        "crons.create_for_thread",
        ("t1", "agent"),
        {
            "schedule": "* * * * *",
            "input": {},
            "multitask_strategy": "reject",
            "end_time": datetime(2030, 1, 1, tzinfo=UTC),
            "timezone": "UTC",
            "enabled": False,
        },
    ),
    (
        "crons.create",
        ("agent",),
        {
            "schedule": "0 9 * * *",
            "on_run_completed": "keep",
            "timezone": UTC,
            "stream_mode": ["updates"],
            "durability": "exit",
        },
    ),
    ("crons.update", ("c1",), {"schedule": "0 1 * * *", "end_time": None, "enabled": True}),
    ("crons.update", ("c1",), {}),
    ("crons.delete", ("c1",), {}),
    (
        "crons.search",
        (),
        {
            "assistant_id": "a1",
            "thread_id": "t1",
            "enabled": False,
            "metadata": {"m": 1},
            "limit": 2,
            "sort_by": "cron_id",
            "select": ["cron_id"],
        },
    ),
    ("crons.count", (), {"assistant_id": "a1"}),
    ("store.put_item", (["a", "b"], "k", {"v": 1}), {"index": False, "ttl": 3}),
    ("store.get_item", (["a", "b"], "k"), {"refresh_ttl": True}),
    ("store.delete_item", (["a"], "k"), {}),
    (
        "store.search_items",
        (["a"],),
        {"filter": {"v": 1}, "limit": 2, "offset": 1, "query": "q", "refresh_ttl": False},
    ),
    ("store.list_namespaces", (), {"prefix": ["a"], "suffix": ["z"], "max_depth": 2, "limit": 7}),
    ("http.post", ("/threads/t1/copy",), {"json": None}),
]


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/stream"):
        body = b'event: values\r\ndata: {"a":1}\r\n\r\nevent: end\r\ndata: null\r\n\r\n'
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json={})


def record(client_cls, name: str, args: tuple, kwargs: dict) -> list[tuple]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = client_cls(
        httpx.Client(base_url="http://test", transport=httpx.MockTransport(handler))
    )
    group, method = name.split(".")
    result = getattr(getattr(client, group), method)(*args, **kwargs)
    if hasattr(result, "__next__"):
        list(result)
    return [
        (
            r.method,
            r.url.raw_path.split(b"?")[0],
            sorted(r.url.params.multi_items()),
            json.loads(r.content) if r.content else None,
            {h: r.headers[h] for h in NOTABLE_HEADERS if h in r.headers},
        )
        for r in seen
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_same_request_as_official_client(name, args, kwargs):
    ours = record(SyncLangGraphClient, name, args, kwargs)
    official = record(OfficialSyncClient, name, args, kwargs)
    assert ours == official


async def arecord(client_cls, name: str, args: tuple, kwargs: dict) -> list[tuple]:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = client_cls(
        httpx.AsyncClient(base_url="http://test", transport=httpx.MockTransport(handler))
    )
    group, method = name.split(".")
    result = getattr(getattr(client, group), method)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    if hasattr(result, "__aiter__"):
        async for _ in result:
            pass
    return [
        (
            r.method,
            r.url.raw_path,
            json.loads(r.content) if r.content else None,
            r.headers.get("last-event-id"),
        )
        for r in seen
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
async def test_async_client_sends_the_same_as_official_async_client(name, args, kwargs):
    assert await arecord(LangGraphClient, name, args, kwargs) == await arecord(
        OfficialClient, name, args, kwargs
    )
