"""Assistants as A2A agents, through the official `a2a-sdk` client (and httpx for the 0.3
method names and the error cases), on a real server.

A message starts a task (a run on the thread its `contextId` names); a later message with
the same `contextId` continues the conversation; an interrupt is `input-required`, and the
next message on the task answers it. Errors are JSON-RPC errors, never a 500.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError, UnsupportedOperationError
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Value
from langgraph_sdk import get_client

from graphdock.server.services.graphs import system_assistant_id
from tests.support.server import ROOT

AUTH_APP = ROOT / "tests" / "app_auth" / "langgraph.json"


def user_message(text: str | None = None, *, data: dict | None = None, **ids) -> Message:
    parts = [Part(text=text)] if text is not None else []
    if data is not None:
        parts.append(Part(data=ParseDict(data, Value())))
    return Message(message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=parts, **ids)


async def agent_for(http: httpx.AsyncClient, url: str, graph: str, *, streaming: bool = False):
    """The SDK client of a graph's assistant, made from its agent card."""
    resolver = A2ACardResolver(http, url)
    card = await resolver.get_agent_card(
        relative_card_path=f"/.well-known/agent-card.json?assistant_id={system_assistant_id(graph)}"
    )
    return ClientFactory(ClientConfig(httpx_client=http, streaming=streaming)).create(card)


async def send(client, message: Message, **config):
    """The one response of a non-streaming send: its task."""
    request = SendMessageRequest(message=message, configuration=SendMessageConfiguration(**config))
    responses = [r async for r in client.send_message(request)]
    assert len(responses) == 1 and responses[0].HasField("task")
    return responses[0].task


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as client:
        yield client


# ---------------------------------------------------------------- the agent card
async def test_the_agent_card(graphdock_server, http):
    chat = system_assistant_id("chat")
    r = await http.get(
        graphdock_server + "/.well-known/agent-card.json", params={"assistant_id": chat}
    )
    assert r.status_code == 200
    card = r.json()
    assert card["name"] == "chat" and card["capabilities"]["streaming"] is True
    endpoint = f"{graphdock_server}/a2a/{chat}"
    assert card["url"] == endpoint
    assert {(i["protocolVersion"], i["url"]) for i in card["supportedInterfaces"]} == {
        ("1.0", endpoint),
        ("0.3", endpoint),
    }
    skill = card["skills"][0]
    assert "messages" in skill["tags"] and "Input: messages (required)." in skill["description"]
    assert (await http.get(endpoint + "/.well-known/agent-card.json")).json() == card
    assert (await http.get(f"{graphdock_server}/a2a/chat")).json()["name"] == "chat"  # a graph name

    missing = await http.get(graphdock_server + "/.well-known/agent-card.json")
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "Missing required query parameter: assistant_id"
    unknown = str(uuid.uuid4())
    r = await http.get(
        graphdock_server + "/.well-known/agent-card.json", params={"assistant_id": unknown}
    )
    assert (r.status_code, r.json()["error"]["message"]) == (
        404,
        f"Assistant '{unknown}' not found",
    )


# ---------------------------------------------------------------- send, get, list
async def test_send_then_get_and_list(graphdock_server, http):
    client = await agent_for(http, graphdock_server, "chat")
    task = await send(client, user_message("hi"))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert [p.text for p in task.artifacts[0].parts] == ["hello world from fake"]
    assert [(m.role, m.parts[0].text) for m in task.history] == [
        (Role.ROLE_USER, "hi"),
        (Role.ROLE_AGENT, "hello world from fake"),
    ]
    thread_id, _, run_id = task.id.partition(":")
    assert task.context_id == thread_id
    run = await get_client(url=graphdock_server, api_key=None).runs.get(thread_id, run_id)
    assert run["status"] == "success"  # a task is a run, a context a thread

    got = await client.get_task(GetTaskRequest(id=task.id, history_length=1))
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert [m.parts[0].text for m in got.history] == ["hello world from fake"]
    listed = await client.list_tasks(ListTasksRequest(context_id=task.context_id))
    assert [t.id for t in listed.tasks] == [task.id]


async def test_a_conversation_goes_on_by_context_id(graphdock_server, http):
    client = await agent_for(http, graphdock_server, "chat")
    first = await send(client, user_message("one"))
    second = await send(client, user_message("two", context_id=first.context_id))
    assert second.context_id == first.context_id and second.id != first.id
    assert [m.parts[0].text for m in second.history] == [
        "one",
        "hello world from fake",
        "two",
        "hello world from fake",
    ]
    listed = await client.list_tasks(ListTasksRequest(context_id=first.context_id))
    assert {t.id for t in listed.tasks} == {first.id, second.id}
    # a finished task takes no more messages
    with pytest.raises(UnsupportedOperationError, match="completed and takes no more messages"):
        await send(client, user_message("three", task_id=first.id, context_id=first.context_id))


async def test_data_parts_are_the_graphs_input(graphdock_server, http):
    client = await agent_for(http, graphdock_server, "schemas")
    task = await send(client, user_message(data={"question": "why"}))
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert task.artifacts[0].parts[0].data.struct_value["answer"] == "why? (default)"


# ---------------------------------------------------------------- streaming
async def test_stream_sends_the_task_the_reply_so_far_the_artifact_and_the_end(
    graphdock_server, http
):
    client = await agent_for(http, graphdock_server, "chat", streaming=True)
    request = SendMessageRequest(message=user_message("hi"))
    events = [e async for e in client.send_message(request)]
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task" and events[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
    assert kinds[-2:] == ["artifact_update", "status_update"]
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert events[-2].artifact_update.artifact.parts[0].text == "hello world from fake"
    working = [
        e.status_update.status.message.parts[0].text
        for e in events[1:-2]
        if e.status_update.status.state == TaskState.TASK_STATE_WORKING
        and e.status_update.status.message.parts
    ]
    assert working[-1] == "hello world from fake"
    assert len(working) > 1 and all("hello world from fake".startswith(t) for t in working)
    ids = {getattr(e, e.WhichOneof("payload")).task_id for e in events[1:]}
    assert ids == {events[0].task.id}


# ---------------------------------------------------------------- interrupts and cancel
async def test_an_interrupt_is_answered_by_the_next_message(graphdock_server, http):
    client = await agent_for(http, graphdock_server, "hitl")
    asked = await send(client, user_message("start"))
    assert asked.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    question = asked.status.message.parts[0].data.struct_value
    assert question["interrupt"]["question"] == "approve?"
    got = await client.get_task(GetTaskRequest(id=asked.id))
    assert got.status.state == TaskState.TASK_STATE_INPUT_REQUIRED

    done = await send(client, user_message("yes", task_id=asked.id, context_id=asked.context_id))
    assert done.id == asked.id
    assert done.status.state == TaskState.TASK_STATE_COMPLETED
    assert done.artifacts[0].parts[0].text == "done:yes"
    state = await get_client(url=graphdock_server, api_key=None).threads.get_state(asked.context_id)
    assert state["values"]["answer"] == "yes"


async def test_cancel_a_working_task(graphdock_server, http):
    client = await agent_for(http, graphdock_server, "slow")
    task = await send(client, user_message(data={"sleep": 30}), return_immediately=True)
    assert task.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)
    cancelled = await client.cancel_task(CancelTaskRequest(id=task.id))
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    with pytest.raises(TaskNotCancelableError):
        await client.cancel_task(CancelTaskRequest(id=task.id))
    with pytest.raises(TaskNotFoundError):
        await client.get_task(GetTaskRequest(id=f"{uuid.uuid4()}:{uuid.uuid4()}"))


# ---------------------------------------------------------------- the wire: 0.3 names, errors
async def test_the_0_3_method_names_and_jsonrpc_errors(graphdock_server, http):
    url = f"{graphdock_server}/a2a/{system_assistant_id('chat')}"
    message = {
        "kind": "message",
        "messageId": "m1",
        "role": "user",
        "parts": [{"kind": "text", "text": "hi"}],
    }
    r = await http.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}},
    )
    task = r.json()["result"]
    assert (task["kind"], task["status"]["state"]) == ("task", "completed")
    assert task["artifacts"][0]["parts"] == [{"kind": "text", "text": "hello world from fake"}]
    r = await http.post(
        url, json={"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": task["id"]}}
    )
    assert r.json()["result"]["id"] == task["id"]
    # without an A2A-Version header, a 1.0 name is answered as 1.0
    r = await http.post(
        url, json={"jsonrpc": "2.0", "id": 3, "method": "GetTask", "params": {"id": task["id"]}}
    )
    assert r.json()["result"]["status"]["state"] == "TASK_STATE_COMPLETED"

    async def error_of(body=None, content=None, to=url) -> tuple[int, int]:
        r = (
            await http.post(to, json=body)
            if content is None
            else await http.post(to, content=content)
        )
        assert r.status_code == 200, r.text
        return r.json()["id"], r.json()["error"]["code"]

    assert await error_of({"jsonrpc": "2.0", "id": 4, "method": "bogus"}) == (4, -32601)
    assert await error_of(content=b"{not json") == (None, -32700)
    assert await error_of(
        {"jsonrpc": "2.0", "id": 5, "method": "GetTask", "params": {"id": "x"}}
    ) == (5, -32001)
    bad_part = {
        "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"url": "http://x/y.png"}]}
    }
    assert await error_of(
        {"jsonrpc": "2.0", "id": 6, "method": "SendMessage", "params": bad_part}
    ) == (6, -32005)
    bad_ctx = {
        "message": {
            "messageId": "m",
            "role": "ROLE_USER",
            "contextId": "c1",
            "parts": [{"text": "x"}],
        }
    }
    assert await error_of(
        {"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": bad_ctx}
    ) == (7, -32602)
    nobody = f"{graphdock_server}/a2a/{uuid.uuid4()}"
    assert await error_of(
        {"jsonrpc": "2.0", "id": 8, "method": "GetTask", "params": {"id": "x"}}, to=nobody
    ) == (8, -32602)
