"""The server starts, lists the system assistants and runs a graph to its final values."""

from graphdock.server.services.graphs import system_assistant_id


async def test_system_assistant_and_wait(sdk):
    assistant = await sdk.assistants.get(system_assistant_id("agent"))
    assert assistant["graph_id"] == "agent"
    assert (
        assistant["assistant_id"] == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    )  # the reference's uuid5
    thread = await sdk.threads.create()
    result = await sdk.runs.wait(
        thread["thread_id"], "agent", input={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert result["count"] == 2
    assert [m["content"] for m in result["messages"]] == ["hi", "a", "b"]
    assert (await sdk.threads.get(thread["thread_id"]))["status"] == "idle"
