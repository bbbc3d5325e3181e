"""Custom auth through the official SDK: a real server with tests/app_auth/auth.py (bearer
tokens mapped to users, everything owner-scoped, the store per user).

User A never sees user B's threads, runs, crons, assistants or store items: every read,
search, count, stream, cancel, update and delete answers as if they were absent.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError

from tests.conftest import BACKENDS
from tests.support.server import ServerProcess

AUTH_APP = Path(__file__).resolve().parents[1] / "app_auth" / "langgraph.json"
MESSAGES = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module", params=BACKENDS)
def auth_server(request, tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("auth"), AUTH_APP, backend=request.param)
    yield server.start()
    server.cleanup()


def client_for(server, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return get_client(url=server.url, api_key=None, headers=headers)


async def status_of(coro) -> int:
    try:
        await coro
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


# ---------------------------------------------------------------- authentication
async def test_no_token_is_401(auth_server):
    anonymous = client_for(auth_server, None)
    with pytest.raises(httpx.HTTPStatusError) as info:
        await anonymous.threads.search()
    assert info.value.response.status_code == 401
    assert info.value.response.json() == {"detail": "Missing token"}
    response = httpx.post(
        auth_server.url + "/threads/search", json={}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}


def test_meta_routes_need_no_token(auth_server):
    for path in ("/ok", "/info", "/openapi.json", "/docs", "/metrics"):
        assert httpx.get(auth_server.url + path).status_code == 200, path


async def test_handler_can_forbid(auth_server):
    carol = client_for(auth_server, "tok-carol")  # read-only
    with pytest.raises(httpx.HTTPStatusError) as info:
        await carol.threads.create()
    assert info.value.response.status_code == 403
    assert info.value.response.json() == {"detail": "read-only user"}
    assert await carol.threads.search() == []  # reads are fine
    with pytest.raises(httpx.HTTPStatusError) as info:
        await carol.store.put_item(["notes"], "k", {"a": 1})
    assert info.value.response.status_code == 403
    assert info.value.response.json() == {"detail": "Forbidden"}  # a handler returning False


async def test_owner_is_stamped_and_user_reaches_the_graph(auth_server):
    alice = client_for(auth_server, "tok-alice")
    thread = await alice.threads.create(metadata={"x": 1})
    assert thread["metadata"] == {"x": 1, "owner": "alice"}
    await alice.runs.wait(thread["thread_id"], "agent", input=MESSAGES)
    run = (await alice.runs.list(thread["thread_id"]))[0]
    configurable = run["kwargs"]["config"]["configurable"]
    assert configurable["langgraph_auth_user"]["identity"] == "alice"
    assert configurable["langgraph_auth_user"]["org"] == "acme"  # extra fields travel too
    assert configurable["langgraph_auth_user_id"] == "alice"
    assert configurable["langgraph_auth_permissions"] == ["read", "write"]
    assert configurable["user_id"] == "alice"
    assert run["metadata"]["owner"] == "alice"


async def test_secrets_never_reach_run_config(auth_server):
    headers = {
        "Authorization": "Bearer tok-alice",
        "x-tenant-name": "acme",
        "x-trace-secret": "hush",
        "cookie": "s=1",
    }
    alice = get_client(url=auth_server.url, api_key="sk-secret-1", headers=headers)
    thread = await alice.threads.create()
    await alice.runs.wait(thread["thread_id"], "agent", input=MESSAGES)
    run = (await alice.runs.list(thread["thread_id"]))[0]
    configurable = run["kwargs"]["config"]["configurable"]
    assert configurable["x-tenant-name"] == "acme"  # http.configurable_headers includes
    dumped = str(run)
    for secret in ("tok-alice", "sk-secret-1", "hush", "s=1"):
        assert secret not in dumped
    assert "tok-alice" not in auth_server.log() and "sk-secret-1" not in auth_server.log()


# ---------------------------------------------------------------- isolation
@pytest.fixture(scope="module")
def alices_world(auth_server):
    """Alice's thread (with a finished run and a long one), assistant, cron and store item."""

    async def build():
        alice = client_for(auth_server, "tok-alice")
        tag = uuid.uuid4().hex
        thread = await alice.threads.create(metadata={"tag": tag})
        await alice.runs.wait(thread["thread_id"], "agent", input=MESSAGES)
        done = (await alice.runs.list(thread["thread_id"]))[0]
        slow_thread = await alice.threads.create(metadata={"tag": tag})
        slow = await alice.runs.create(slow_thread["thread_id"], "slow", input={"sleep": 30})
        assistant = await alice.assistants.create("agent", metadata={"tag": tag}, name="alice's")
        cron = await alice.crons.create_for_thread(
            thread["thread_id"], "agent", schedule="0 0 1 1 *", metadata={"tag": tag}
        )
        await alice.store.put_item(["notes", tag], "k", {"secret": "alice's"})
        return {
            "tag": tag,
            "thread": thread,
            "done": done,
            "slow_thread": slow_thread,
            "slow": slow,
            "assistant": assistant,
            "cron": cron,
        }

    return asyncio.run(build())


async def test_alice_sees_her_own(auth_server, alices_world):
    w, alice = alices_world, client_for(auth_server, "tok-alice")
    assert (await alice.threads.get(w["thread"]["thread_id"]))["metadata"]["owner"] == "alice"
    assert len(await alice.threads.search(metadata={"tag": w["tag"]})) == 2
    assert await alice.threads.count(metadata={"tag": w["tag"]}) == 2
    assert (await alice.assistants.get(w["assistant"]["assistant_id"]))["name"] == "alice's"
    assert await alice.assistants.count(metadata={"tag": w["tag"]}) == 1
    assert len(await alice.crons.search(thread_id=w["thread"]["thread_id"])) == 1
    assert await alice.crons.count(thread_id=w["thread"]["thread_id"]) == 1
    item = await alice.store.get_item(["notes", w["tag"]], "k")
    assert item["value"] == {"secret": "alice's"}
    assert item["namespace"] == ["alice", "notes", w["tag"]]
    assert len(await alice.runs.list(w["thread"]["thread_id"])) == 1


async def test_bob_cannot_touch_alices_threads(auth_server, alices_world):
    w, bob = alices_world, client_for(auth_server, "tok-bob")
    tid = w["thread"]["thread_id"]
    absent = str(uuid.uuid4())
    assert await bob.threads.search(metadata={"tag": w["tag"]}) == []
    assert await bob.threads.count(metadata={"tag": w["tag"]}) == 0
    assert await bob.threads.search(ids=[tid]) == []
    for make in (
        lambda t: bob.threads.get(t),
        lambda t: bob.threads.update(t, metadata={"owner": "bob"}),
        lambda t: bob.threads.get_state(t),
        lambda t: bob.threads.get_history(t),
        lambda t: bob.threads.update_state(t, {"messages": []}),
        lambda t: bob.threads.copy(t),
        lambda t: bob.threads.delete(t),
    ):
        # exactly what an absent thread answers
        assert await status_of(make(tid)) == await status_of(make(absent)) != 200
    response = httpx.get(
        f"{auth_server.url}/threads/{tid}/stream", headers={"Authorization": "Bearer tok-bob"}
    )
    assert response.status_code == 404
    prune = await bob.threads.prune([tid])
    assert prune == {"pruned_count": 0}
    assert (await client_for(auth_server, "tok-alice").threads.get(tid))["metadata"] == {
        "tag": w["tag"],
        "owner": "alice",
        "graph_id": "agent",
        "assistant_id": w["done"]["assistant_id"],
    }


async def test_bob_cannot_touch_alices_runs(auth_server, alices_world):
    w, bob = alices_world, client_for(auth_server, "tok-bob")
    tid, rid = w["thread"]["thread_id"], w["done"]["run_id"]
    slow_tid, slow_rid = w["slow_thread"]["thread_id"], w["slow"]["run_id"]
    with pytest.raises(NotFoundError):
        await bob.runs.list(tid)
    with pytest.raises(NotFoundError):
        await bob.runs.get(tid, rid)
    with pytest.raises(NotFoundError):
        await bob.runs.cancel(slow_tid, slow_rid)
    with pytest.raises(NotFoundError):
        await bob.runs.delete(tid, rid)
    with pytest.raises(NotFoundError):
        await bob.runs.create(tid, "agent", input=MESSAGES)
    wait = bob.runs.wait(slow_tid, "agent", input=MESSAGES, multitask_strategy="interrupt")
    assert await status_of(wait) == 404
    assert await status_of(bob.runs.join(slow_tid, slow_rid)) == 404
    with pytest.raises(httpx.HTTPStatusError) as stream_error:
        _ = [part async for part in bob.runs.join_stream(slow_tid, slow_rid)]
    assert stream_error.value.response.status_code == 404
    with pytest.raises(NotFoundError):
        await bob.threads.copy(slow_tid)
    # bulk cancel by status only reaches bob's own runs
    await status_of(bob.runs.cancel_many(status="running"))
    alice = client_for(auth_server, "tok-alice")
    assert (await alice.runs.get(slow_tid, slow_rid))["status"] in ("pending", "running")
    assert (await alice.runs.get(tid, rid))["status"] == "success"


async def test_bob_cannot_touch_alices_assistants(auth_server, alices_world):
    w, bob = alices_world, client_for(auth_server, "tok-bob")
    aid = w["assistant"]["assistant_id"]
    assert await bob.assistants.search(metadata={"tag": w["tag"]}) == []
    assert await bob.assistants.count(metadata={"tag": w["tag"]}) == 0
    for make in (
        lambda a: bob.assistants.get(a),
        lambda a: bob.assistants.update(a, metadata={"owner": "bob"}),
        lambda a: bob.assistants.get_versions(a),
        lambda a: bob.assistants.set_latest(a, 1),
        lambda a: bob.assistants.get_schemas(a),
        lambda a: bob.assistants.delete(a),
    ):
        assert await status_of(make(aid)) == await status_of(make(str(uuid.uuid4()))) == 404
    # bob cannot run alice's assistant, even on his own thread
    thread = await bob.threads.create()
    with pytest.raises(NotFoundError):
        await bob.runs.create(thread["thread_id"], aid, input=MESSAGES)
    # a graph's system assistant is everyone's
    result = await bob.runs.wait(thread["thread_id"], "agent", input=MESSAGES)
    assert result["count"] == 2


async def test_bob_cannot_touch_alices_crons(auth_server, alices_world):
    w, bob = alices_world, client_for(auth_server, "tok-bob")
    cid, tid = w["cron"]["cron_id"], w["thread"]["thread_id"]
    assert await bob.crons.search(thread_id=tid) == []
    assert await bob.crons.search(metadata={"tag": w["tag"]}) == []
    assert await bob.crons.count(thread_id=tid) == 0
    for method in ("GET", "DELETE"):
        response = httpx.request(
            method,
            f"{auth_server.url}/runs/crons/{cid}",
            headers={"Authorization": "Bearer tok-bob"},
        )
        assert response.status_code == 404, method
    with pytest.raises(NotFoundError):
        await bob.crons.update(cid, schedule="* * * * *")
    with pytest.raises(NotFoundError):
        await bob.crons.create_for_thread(tid, "agent", schedule="0 0 1 1 *")
    assert await bob.crons.create("agent", schedule="0 0 1 1 *") is not None  # his own: fine
    alice = client_for(auth_server, "tok-alice")
    assert (await alice.crons.search(thread_id=tid))[0]["schedule"] == "0 0 1 1 *"


async def test_bob_cannot_touch_alices_store(auth_server, alices_world):
    w, bob = alices_world, client_for(auth_server, "tok-bob")
    ns = ["notes", w["tag"]]
    assert await bob.store.get_item(ns, "k") is None
    assert await bob.store.get_item(["alice", *ns], "k") is None  # no way to name hers
    assert (await bob.store.search_items(["notes"]))["items"] == []
    assert (await bob.store.search_items([], filter={"secret": "alice's"}))["items"] == []
    namespaces = (await bob.store.list_namespaces())["namespaces"]
    assert all(n[0] == "bob" for n in namespaces)
    await bob.store.delete_item(ns, "k")
    await bob.store.put_item(ns, "k", {"secret": "bob's"})
    assert (await bob.store.get_item(ns, "k"))["value"] == {"secret": "bob's"}
    alice = client_for(auth_server, "tok-alice")
    assert (await alice.store.get_item(ns, "k"))["value"] == {"secret": "alice's"}


def test_body_limit_is_413(auth_server):
    body = {"metadata": {"blob": "x" * 300_000}}
    response = httpx.post(
        auth_server.url + "/threads", json=body, headers={"Authorization": "Bearer tok-alice"}
    )
    assert response.status_code == 413
    assert "limit is 200000 bytes" in response.json()["detail"]
