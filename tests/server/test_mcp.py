"""Assistants as MCP tools, through the official `mcp` client (Streamable HTTP) and a
LangGraph agent that loads them with `langchain-mcp-adapters`, on a real server.

Each assistant the caller may see is a tool named after it; a call runs it and answers its
output as JSON; a failing graph is a tool error; an interrupt comes back with its thread
so that a second call answers it; with custom auth, each user sees their own tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError
from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS

from graphdock.server.api.routing import declared_routes
from graphdock.server.app import create_app
from graphdock.server.services.graphs import system_assistant_id
from graphdock.server.settings import Settings
from tests.support.server import ROOT

AUTH_APP = ROOT / "tests" / "app_auth" / "langgraph.json"
JSON_AND_SSE = {"accept": "application/json, text/event-stream"}


@contextlib.asynccontextmanager
async def mcp_session(url: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http,
        streamable_http_client(url + "/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def payload(result: types.CallToolResult):
    """The call's JSON output, checked against its structured copy."""
    assert result.content[0].type == "text"
    value = json.loads(result.content[0].text)  # JSON, never a Python repr
    assert result.structuredContent == value
    return value


# ---------------------------------------------------------------- tools of the test app
async def test_each_assistant_is_a_tool_with_its_input_schema(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert {"agent", "chat", "fail", "hitl", "schemas", "factory"} <= set(tools)
    schemas = tools["schemas"]
    assert schemas.inputSchema["required"] == ["question"]
    assert schemas.inputSchema["properties"]["question"] == {"title": "Question", "type": "string"}
    assert schemas.description == "Runs the LangGraph graph 'schemas' (assistant 'schemas')."
    assert tools["factory"].description == "built per run by a factory"
    # a `typing.TypedDict` state on Python 3.11: the reference lists no tool for it
    agent = tools["agent"].inputSchema
    assert agent["title"] == "State" and agent["required"] == ["messages", "count"]
    assert agent["properties"]["count"] == {"title": "Count", "type": "integer"}
    # LangChain message lists: a string or messages, without pydantic's definitions
    chat = tools["chat"].inputSchema
    assert "$defs" not in chat
    assert [b["type"] for b in chat["properties"]["messages"]["anyOf"]] == ["string", "array"]
    # the reserved arguments that run a call on a thread and answer its interrupt
    assert set(tools["hitl"].inputSchema["properties"]) == {
        "messages",
        "answer",
        "thread_id",
        "resume",
    }


async def test_a_call_returns_the_output_as_json(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        result = await session.call_tool("chat", {"messages": "hello"})
        assert result.isError is False
        messages = payload(result)["messages"]
        assert [m["type"] for m in messages] == ["human", "ai"]
        assert messages[-1]["content"] == "hello world from fake"
        result = await session.call_tool("schemas", {"question": "why"})
        assert payload(result) == {"answer": "why? (default)"}


async def test_a_stateless_call_leaves_no_thread(graphdock_server):
    sdk = get_client(url=graphdock_server, api_key=None)
    marker = system_assistant_id("staticmsg")
    before = await sdk.threads.count(metadata={"assistant_id": marker})
    async with mcp_session(graphdock_server) as session:
        assert payload(await session.call_tool("staticmsg", {"messages": "x"}))["messages"]
    assert await sdk.threads.count(metadata={"assistant_id": marker}) == before


async def test_a_call_whose_client_leaves_still_cleans_up_its_thread(graphdock_server):
    sdk = get_client(url=graphdock_server, api_key=None)
    slow = {"assistant_id": system_assistant_id("slow")}
    before = await sdk.threads.count(metadata=slow)
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    call["params"] = {"name": "slow", "arguments": {"sleep": 1}}
    async with (
        httpx.AsyncClient(timeout=60) as http,
        http.stream("POST", graphdock_server + "/mcp", json=call, headers=JSON_AND_SSE) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        for _ in range(300):  # the run has started, on a thread kept for now
            if await sdk.threads.count(metadata=slow) == before + 1:
                break
            await asyncio.sleep(0.02)
        assert await sdk.threads.count(metadata=slow) == before + 1
    # the client left mid-run: the thread goes once the run ends
    for _ in range(300):
        if await sdk.threads.count(metadata=slow) == before:
            break
        await asyncio.sleep(0.1)
    assert await sdk.threads.count(metadata=slow) == before


async def test_a_failing_graph_is_a_tool_error(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        result = await session.call_tool("fail", {})
    assert result.isError is True
    assert [c.text for c in result.content] == ["ValueError: boom"]


async def test_arguments_the_schema_refuses_are_a_tool_error(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        result = await session.call_tool("schemas", {"question": 3})
        assert result.isError and "Input validation error" in result.content[0].text
        result = await session.call_tool("hitl", {"resume": "yes"})
        assert result.isError and "give thread_id too" in result.content[0].text
        result = await session.call_tool("hitl", {"thread_id": "not-a-uuid"})
        assert result.isError and "must be a thread's UUID" in result.content[0].text


async def test_an_unknown_tool_is_the_invalid_params_error(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        with pytest.raises(McpError) as raised:
            await session.call_tool("no_such_tool", {})
        assert raised.value.error.code == types.INVALID_PARAMS
        assert "Unknown tool: 'no_such_tool'" in raised.value.error.message
        await session.send_ping()  # the session is still fine


async def test_an_interrupt_is_answered_by_a_second_call(graphdock_server):
    async with mcp_session(graphdock_server) as session:
        asked = payload(await session.call_tool("hitl", {}))
        assert asked["status"] == "interrupted"
        assert asked["interrupts"][0]["value"] == {"question": "approve?", "n": 0}
        thread_id = asked["thread_id"]
        first = await session.call_tool("hitl", {})
        assert "resume" in first.content[1].text  # how to answer, for a model to read
        answered = await session.call_tool("hitl", {"thread_id": thread_id, "resume": "yes"})
        assert payload(answered)["answer"] == "yes"
        assert payload(answered)["messages"][-1]["content"] == "done:yes"
    state = await get_client(url=graphdock_server, api_key=None).threads.get_state(thread_id)
    assert (state["values"]["answer"], state["next"]) == ("yes", [])


async def test_a_call_on_a_thread_continues_it(graphdock_server):
    sdk = get_client(url=graphdock_server, api_key=None)
    thread = await sdk.threads.create()
    async with mcp_session(graphdock_server) as session:
        args = {"thread_id": thread["thread_id"], "messages": [], "count": 0}
        assert payload(await session.call_tool("agent", args))["count"] == 2
        args["count"] = 5
        assert payload(await session.call_tool("agent", args))["count"] == 7
    state = await sdk.threads.get_state(thread["thread_id"])
    assert len(state["values"]["messages"]) == 4


async def test_progress_notifications_while_a_run_streams(graphdock_server):
    seen = []

    async def progress(done, total, message):
        seen.append((done, message))

    async with mcp_session(graphdock_server) as session:
        result = await session.call_tool("steps", {}, progress_callback=progress)
    assert payload(result)["log"] == ["s1", "s2", "s3", "s4"]
    assert seen == [(1, "s1 finished"), (2, "s2 finished"), (3, "s3 finished"), (4, "s4 finished")]


async def test_every_protocol_version_the_sdk_negotiates(graphdock_server):
    async with httpx.AsyncClient(
        base_url=graphdock_server, headers=JSON_AND_SSE, timeout=60
    ) as http:
        for version in SUPPORTED_PROTOCOL_VERSIONS:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": version,
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
            r = await http.post("/mcp", json=body, headers={"accept": "application/json"})
            assert r.status_code == 200 and r.headers["content-type"] == "application/json"
            result = r.json()["result"]
            assert result["protocolVersion"] == version
            assert result["capabilities"]["tools"] == {"listChanged": False}
            assert result["serverInfo"]["name"] == "graphdock"
        # before 2025-06-18 a tool result has no structured content
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "schemas", "arguments": {"question": "q"}},
        }
        old = await http.post(
            "/mcp",
            json=call,
            headers={"accept": "application/json", "mcp-protocol-version": "2025-03-26"},
        )
        assert "structuredContent" not in old.json()["result"]
        assert json.loads(old.json()["result"]["content"][0]["text"]) == {"answer": "q? (default)"}
        assert (await http.get("/mcp")).status_code == 405
        bad = await http.post(
            "/mcp", content=b"{oops", headers={"content-type": "application/json"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == types.PARSE_ERROR


# ---------------------------------------------------------------- a LangGraph agent using them
async def test_a_langgraph_agent_calls_a_graphdock_tool(graphdock_server):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    client = MultiServerMCPClient(
        {"graphdock": {"url": graphdock_server + "/mcp", "transport": "streamable_http"}}
    )
    tools = await client.get_tools()
    assert "schemas" in {t.name for t in tools}
    # a fake model that asks for the `schemas` tool once, then answers
    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    "", tool_calls=[{"name": "schemas", "args": {"question": "ok"}, "id": "c1"}]
                ),
                AIMessage("the tool said so"),
            ]
        )
    )

    def think(state: MessagesState):
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("think", think)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "think")
    builder.add_conditional_edges("think", tools_condition)
    builder.add_edge("tools", "think")
    result = await builder.compile().ainvoke({"messages": [("user", "ask the tool")]})
    answer = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert "ok? (default)" in str(answer.content)
    assert result["messages"][-1].content == "the tool said so"


# ---------------------------------------------------------------- configuration
def _routes(tmp_path: Path, http: dict) -> set[str]:
    config = {
        "dependencies": [str(ROOT / "tests" / "app")],
        "graphs": {"agent": str(ROOT / "tests" / "app" / "graph.py") + ":graph"},
        "http": http,
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    app = create_app(Settings(config_path=tmp_path / "langgraph.json"))
    return {route for route, _ in declared_routes(app)}


def test_http_disable_mcp_and_disable_a2a_remove_their_routes(tmp_path: Path):
    a2a = {"POST /a2a/{assistant_id}", "GET /.well-known/agent-card.json"}
    default = _routes(tmp_path, {})
    assert "POST /mcp" in default and a2a <= default
    no_mcp = _routes(tmp_path, {"disable_mcp": True})
    assert "POST /mcp" not in no_mcp and a2a <= no_mcp
    no_a2a = _routes(tmp_path, {"disable_a2a": True})
    assert "POST /mcp" in no_a2a
    assert not any("a2a" in r or "agent-card" in r for r in no_a2a)
