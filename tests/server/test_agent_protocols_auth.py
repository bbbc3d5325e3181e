"""Custom auth over both agent protocols (tests/app_auth: bearer tokens, everything
owner-scoped): through MCP and A2A a user sees, calls and reads only their own assistants,
threads and tasks, and nobody gets in without a token."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk import get_client
from mcp.shared.exceptions import McpError

from tests.server.test_mcp import JSON_AND_SSE, mcp_session, payload
from tests.support.server import ROOT, ServerProcess

AUTH_APP = ROOT / "tests" / "app_auth" / "langgraph.json"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """One server (SQLite: the auth filters' SQL is tested on both backends elsewhere)."""
    server = ServerProcess(tmp_path_factory.mktemp("protocols-auth"), AUTH_APP)
    yield server.start()
    server.cleanup()


# ---------------------------------------------------------------- MCP
async def test_each_user_sees_and_calls_their_own_tools(auth_server):
    tag = uuid.uuid4().hex[:6]
    for token, name in (("tok-alice", f"alice bot {tag}"), ("tok-bob", f"bob bot {tag}")):
        sdk = get_client(
            url=auth_server.url, api_key=None, headers={"Authorization": f"Bearer {token}"}
        )
        await sdk.assistants.create("agent", name=name)
    async with mcp_session(auth_server.url, "tok-alice") as alice:
        names = {t.name for t in (await alice.list_tools()).tools}
        assert f"alice_bot_{tag}" in names and f"bob_bot_{tag}" not in names
        result = await alice.call_tool(f"alice_bot_{tag}", {"messages": [], "count": 1})
        assert payload(result)["count"] == 3
        with pytest.raises(McpError):  # bob's tool is not one of alice's
            await alice.call_tool(f"bob_bot_{tag}", {"messages": [], "count": 1})
    async with mcp_session(auth_server.url, "tok-bob") as bob:
        names = {t.name for t in (await bob.list_tools()).tools}
        assert f"bob_bot_{tag}" in names and f"alice_bot_{tag}" not in names
    async with mcp_session(auth_server.url, "tok-carol") as carol:  # read-only: may not run
        assert (await carol.list_tools()).tools == []


async def test_without_credentials_mcp_is_401(auth_server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    r = httpx.post(auth_server.url + "/mcp", json=body, headers=JSON_AND_SSE, timeout=60)
    assert (r.status_code, r.json()) == (401, {"detail": "Missing token"})


# ---------------------------------------------------------------- A2A
async def test_a_users_agents_and_tasks_are_their_own(auth_server):
    def sdk(token):
        return get_client(
            url=auth_server.url, api_key=None, headers={"Authorization": f"Bearer {token}"}
        )

    assistant = await sdk("tok-alice").assistants.create("agent", name="alice's agent")
    url = f"{auth_server.url}/a2a/{assistant['assistant_id']}"
    as_alice = httpx.AsyncClient(headers={"Authorization": "Bearer tok-alice"}, timeout=60)
    as_bob = httpx.AsyncClient(headers={"Authorization": "Bearer tok-bob"}, timeout=60)
    async with as_alice, as_bob, httpx.AsyncClient() as anonymous:
        assert (await as_alice.get(url + "/.well-known/agent-card.json")).status_code == 200
        assert (await as_bob.get(url + "/.well-known/agent-card.json")).status_code == 404
        assert (await anonymous.get(url)).status_code == 401
        send = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {
                "message": {
                    "messageId": "m",
                    "role": "ROLE_USER",
                    "parts": [{"data": {"messages": [], "count": 0}}],
                }
            },
        }
        task = (await as_alice.post(url, json=send)).json()["result"]["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        get = {"jsonrpc": "2.0", "id": 2, "method": "GetTask", "params": {"id": task["id"]}}
        assert (await as_alice.post(url, json=get)).json()["result"]["id"] == task["id"]
        assert (await as_bob.post(url, json=get)).json()["error"][
            "code"
        ] == -32602  # not bob's agent
        bobs_thread = await sdk("tok-bob").threads.create()
        send["params"]["message"]["contextId"] = bobs_thread["thread_id"]
        assert (await as_alice.post(url, json=send)).json()["error"]["code"] == -32602
