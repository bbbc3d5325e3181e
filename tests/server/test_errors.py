"""Issue 2's error contract for assistants and threads: 404 unknown ids, 409 conflicts,
422 naming the bad field, path ids decoded once, and no input that gives a 500."""

from __future__ import annotations

import itertools
import uuid
from urllib.parse import quote

import httpx
import pytest


@pytest.fixture
async def api(graphdock_server):
    async with httpx.AsyncClient(base_url=graphdock_server, timeout=30) as client:
        yield client


@pytest.fixture
async def ran(api):
    """An assistant and a thread the agent ran on, with one of its checkpoint ids."""
    assistant = (await api.post("/assistants", json={"graph_id": "agent"})).json()["assistant_id"]
    thread = (await api.post("/threads", json={})).json()["thread_id"]
    await api.post(
        f"/threads/{thread}/runs/wait", json={"assistant_id": assistant, "input": {"messages": []}}
    )
    checkpoint = (await api.get(f"/threads/{thread}/state")).json()["checkpoint_id"]
    return assistant, thread, checkpoint


def assert_detail(response: httpx.Response, status: int, detail: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str)
    if detail is not None:
        assert body["detail"] == detail


# ---------------------------------------------------------------- 404


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("GET", "/assistants/{id}", None, "Not Found"),
        ("PATCH", "/assistants/{id}", {"name": "x"}, "Assistant {id} not found"),
        ("DELETE", "/assistants/{id}", None, "Assistant with ID {id} not found"),
        ("GET", "/assistants/{id}/graph", None, "Not Found"),
        ("GET", "/assistants/{id}/schemas", None, "Not Found"),
        ("GET", "/assistants/{id}/subgraphs", None, "Not Found"),
        ("POST", "/assistants/{id}/versions", {}, "Assistant {id} not found"),
        ("POST", "/assistants/{id}/latest", {"version": 1}, "Assistant {id} not found"),
        ("GET", "/threads/{id}", None, "Thread with ID {id} not found"),
        ("PATCH", "/threads/{id}", {"metadata": {}}, "Not Found"),
        ("DELETE", "/threads/{id}", None, "Thread with ID {id} not found"),
        ("GET", "/threads/{id}/state", None, "Thread with ID {id} not found"),
        ("POST", "/threads/{id}/state", {"values": {}}, "Thread with ID {id} not found"),
        ("GET", "/threads/{id}/state/abc", None, "Thread with ID {id} not found"),
        (
            "POST",
            "/threads/{id}/state/checkpoint",
            {"checkpoint": {}},
            "Thread with ID {id} not found",
        ),
        ("GET", "/threads/{id}/history", None, "Thread with ID {id} not found"),
        ("POST", "/threads/{id}/history", {}, "Thread with ID {id} not found"),
    ],
)
async def test_unknown_ids_are_404(api, method, path, body, detail):
    unknown = str(uuid.uuid4())
    r = await api.request(method, path.format(id=unknown), json=body)
    assert_detail(r, 404, detail.format(id=unknown))


async def test_unknown_route_and_method(api):
    assert_detail(await api.get("/nope"), 404, "Not Found")
    r = await api.put(f"/threads/{uuid.uuid4()}")
    assert_detail(r, 405, "Method Not Allowed")


# ---------------------------------------------------------------- 409


async def test_conflicts_are_409(api):
    tid, aid = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await api.post("/threads", json={"thread_id": tid})).status_code == 200
    assert_detail(
        await api.post("/threads", json={"thread_id": tid}),
        409,
        f"Thread with ID {tid} already exists",
    )
    assert (
        await api.post("/assistants", json={"graph_id": "agent", "assistant_id": aid})
    ).status_code == 200
    assert_detail(
        await api.post("/assistants", json={"graph_id": "agent", "assistant_id": aid}),
        409,
        f"Assistant {aid} already exists",
    )
    missing = uuid.uuid4()  # the reference answers 409 "Conflict" here; there is nothing to copy
    assert_detail(
        await api.post(f"/threads/{missing}/copy"), 404, f"Thread with ID {missing} not found"
    )


# ---------------------------------------------------------------- 422


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/assistants/{bad}", "assistant"),
        ("PATCH", "/assistants/{bad}", "assistant"),
        ("DELETE", "/assistants/{bad}", "assistant"),
        ("GET", "/assistants/{bad}/schemas", "assistant"),
        ("GET", "/assistants/{bad}/subgraphs", "assistant"),
        ("GET", "/assistants/{bad}/subgraphs/child", "assistant"),
        ("POST", "/assistants/{bad}/versions", "assistant"),
        ("POST", "/assistants/{bad}/latest", "assistant"),
        ("GET", "/threads/{bad}", "thread"),
        ("PATCH", "/threads/{bad}", "thread"),
        ("DELETE", "/threads/{bad}", "thread"),
        ("POST", "/threads/{bad}/copy", "thread"),
        ("GET", "/threads/{bad}/state", "thread"),
        ("POST", "/threads/{bad}/state", "thread"),
        ("GET", "/threads/{bad}/state/abc", "thread"),
        ("POST", "/threads/{bad}/state/checkpoint", "thread"),
        ("GET", "/threads/{bad}/history", "thread"),
        ("POST", "/threads/{bad}/history", "thread"),
    ],
)
async def test_non_uuid_path_ids_are_422(api, method, path, kind):
    body = {"checkpoint": {}} if path.endswith("checkpoint") else {}
    for bad in ("not-a-uuid", "1234", "graph"):
        r = await api.request(method, path.format(bad=bad), json=body if method != "GET" else None)
        assert_detail(r, 422, f"Invalid {kind} ID: must be a UUID")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/assistants", {"graph_id": "agent", "config": []}, "config"),
        ("/assistants", {"graph_id": "agent", "config": {"configurable": 5}}, "configurable"),
        ("/assistants/search", {"limit": "ten"}, "limit"),
        ("/assistants/search", {"offset": 10**20}, "offset"),
        ("/assistants/search", {"metadata": {"\u0000": 1}}, "metadata"),
        ("/assistants/count", {"metadata": 3}, "metadata"),
        ("/threads", {"ttl": {"ttl": -1}}, "ttl"),
        ("/threads", {"supersteps": [{}]}, "updates"),
        ("/threads/search", {"ids": "x"}, "ids"),
        ("/threads/search", {"values": {"n": 10**30}}, "values"),
        ("/threads/count", {"status": "done"}, "status"),
        ("/threads/prune", {"thread_ids": [], "strategy": "x"}, "strategy"),
    ],
)
async def test_invalid_bodies_name_the_field(api, path, body, field):
    r = await api.post(path, json=body)
    assert_detail(r, 422)
    assert field in r.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/assistants", "/assistants/search", "/threads", "/threads/search", "/threads/prune"]
)
@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"{", b"[1,"])
async def test_malformed_json_is_422(api, path, raw):
    r = await api.post(path, content=raw, headers={"content-type": "application/json"})
    assert_detail(r, 422, "Invalid JSON in request body")


# ---------------------------------------------------------------- percent-encoded path ids


async def test_path_ids_are_decoded_exactly_once(api, ran):
    assistant, thread, checkpoint = ran
    every_char = "".join(f"%{ord(c):02X}" for c in thread)
    r = await api.get(f"/threads/{every_char}")
    assert r.status_code == 200 and r.json()["thread_id"] == thread
    r = await api.get(f"/assistants/{quote(assistant, safe='')}")
    assert r.status_code == 200
    r = await api.get(f"/threads/{thread}/state/{''.join(f'%{ord(c):02X}' for c in checkpoint)}")
    assert r.status_code == 200 and r.json()["checkpoint_id"] == checkpoint
    double = every_char.replace("%", "%25")  # decoded once, this is '%30%31...': not a UUID
    assert_detail(await api.get(f"/threads/{double}"), 422, "Invalid thread ID: must be a UUID")
    r = await api.get(f"/threads/{thread}/state/%2541")  # the checkpoint id is the text '%41'
    assert r.status_code == 200 and r.json()["checkpoint_id"] == "%41"
    parent = "0b226d00-e4ec-5b58-8e33-88f4bd4debe7"
    assert (await api.get(f"/assistants/{parent}/subgraphs/%63hild")).json().keys() == {"child"}
    assert (await api.get(f"/assistants/{parent}/subgraphs/child%7Cnope")).json() == {}


async def test_sdk_quotes_ids_and_server_decodes_them(sdk):
    thread = await sdk.threads.create()
    await sdk.threads.update(thread["thread_id"], metadata={"graph_id": "agent"})
    checkpoint_id = "odd id?with&chars#and%41"  # the SDK percent-encodes it; we decode once
    state = await sdk.threads.get_state(thread["thread_id"], checkpoint_id=checkpoint_id)
    assert state["checkpoint_id"] == checkpoint_id and state["values"] == {}


# ---------------------------------------------------------------- no input gives a 500

GARBAGE = [
    None, b"", b"null", b"[]", b"3", b'"x"', {}, {"limit": 10**20}, {"limit": -5},
    {"offset": 10**20}, {"metadata": {"a": {"b": [1, {"c": None}]}}}, {"metadata": {"\u0000": "x"}},
    {"values": {"x": [1, {"y": None}], "big": 10**30}}, {"ids": [None]}, {"select": "x"},
    {"extract": {"a": "values." + "x." * 300}}, {"version": 10**30}, {"version": -1},
    {"thread_id": 5}, {"assistant_id": 5}, {"graph_id": ["x"]}, {"config": {"configurable": 5}},
    {"context": {"a": 1}, "config": {"recursion_limit": "x"}},
    {"supersteps": [{"updates": [{"as_node": "a", "values": 5}]}], "metadata": {"graph_id": "agent"}},
    {"supersteps": [{"updates": [{"as_node": "a", "command": {"goto": {"x": 1}}}]}], "metadata": {"graph_id": "agent"}},
    {"checkpoint": {"checkpoint_id": 5}}, {"checkpoint": {"checkpoint_id": "x", "checkpoint_ns": "a|b"}},
    {"before": 5}, {"before": {"configurable": 5}}, {"before": ""}, {"metadata": {"\u0000": 1}, "limit": 3},
    {"values": {"messages": 5}, "as_node": "a"}, {"values": [1, 2]}, {"as_node": "__end__"},
    {"thread_ids": "x"}, {"ttl": {"ttl": "x"}}, {"name": 5}, {"checkpoint_id": 5},
]  # fmt: skip


async def test_no_body_gives_a_500(api, ran):
    assistant, thread, _ = ran
    endpoints = [
        ("POST", "/assistants"), ("POST", "/assistants/search"), ("POST", "/assistants/count"),
        ("PATCH", f"/assistants/{assistant}"), ("POST", f"/assistants/{assistant}/versions"),
        ("POST", f"/assistants/{assistant}/latest"), ("POST", "/threads"), ("POST", "/threads/search"),
        ("POST", "/threads/count"), ("POST", "/threads/prune"), ("PATCH", f"/threads/{thread}"),
        ("POST", f"/threads/{thread}/state"), ("POST", f"/threads/{thread}/state/checkpoint"),
        ("POST", f"/threads/{thread}/history"),
    ]  # fmt: skip
    failures = []
    for (method, path), body in itertools.product(endpoints, GARBAGE):
        if isinstance(body, bytes):
            kwargs = {"content": body, "headers": {"content-type": "application/json"}}
        else:
            kwargs = {} if body is None else {"json": body}
        try:
            r = await api.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # a server that drops the connection failed too
            failures.append((method, path, body, type(exc).__name__))
            continue
        ok = r.status_code < 500 and (
            r.status_code < 400 or isinstance(r.json().get("detail"), str)
        )
        if not ok:
            failures.append((method, path, body, r.status_code, r.text[:300]))
    assert not failures, "\n".join(map(repr, failures))


async def test_no_query_or_path_gives_a_500(api, ran):
    assistant, thread, checkpoint = ran
    paths = [
        f"/assistants/{assistant}/graph?xray=99999999999999999999999",
        f"/assistants/{assistant}/graph?xray=%00",
        f"/assistants/{assistant}/subgraphs?recurse=maybe",
        f"/assistants/{assistant}/subgraphs/%00",
        f"/threads/{thread}/state?subgraphs=maybe",
        f"/threads/{thread}/state/%00",
        f"/threads/{thread}/state/{'x' * 3000}",
        f"/threads/{thread}/state/{checkpoint}?subgraphs=true",
        f"/threads/{thread}/history?limit=-1",
        f"/threads/{thread}/history?limit=99999999999999999999999",
        f"/threads/{thread}/history?before=x",
        f"/threads/{thread}/history?before=",
        "/threads/%00",
        "/threads/" + "a" * 5000,
        "/assistants/%25",
    ]
    for path in paths:
        r = await api.get(path)
        assert r.status_code < 500, (path, r.text)
        if r.status_code >= 400:
            assert isinstance(r.json()["detail"], str), path
    r = await api.delete(f"/assistants/{assistant}?delete_threads=%00")
    assert r.status_code == 204
