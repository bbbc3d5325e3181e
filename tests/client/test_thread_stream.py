"""Our SDK's `client.threads.stream(...)` (the v3 thread streaming session), async and sync,
over SSE and over WebSocket, against a real graphdock server on each backend, and once
against the reference server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from pathlib import Path

import pytest

from graphdock.client import (
    NotFoundError,
    ProtocolError,
    RunFailedError,
    get_client,
    get_sync_client,
)
from tests.app.agents import ANSWER, CALL_TEXT

QUESTION = {"messages": [{"role": "user", "content": "what is v3?"}]}
TRANSPORTS = ["sse", "websocket"]


def _text(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


# ---------------------------------------------------------------- async
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_async_projections_of_one_run(graphdock_server, transport):
    """Tokens as the model streamed them, the tool call, the subgraph and its custom events,
    the values, all from one subscription; then each projection again on its own."""
    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        started = await thread.run.start(input={**QUESTION, "ask": False})
        assert started["run_id"]
        items: dict[str, list] = {}
        async for name, item in thread.interleave_projections(
            ["messages", "tool_calls", "subgraphs", "progress", "values"]
        ):
            items.setdefault(name, []).append(item)
        first, second = items["messages"]
        assert [t async for t in first.text] == ["Let", " me", " look", " that", " up."]
        assert await second.text == ANSWER
        message = await first.output
        assert message["text"] == CALL_TEXT
        assert message["tool_calls"] == [
            {"name": "lookup", "args": {"topic": "v3"}, "id": "call-1", "type": "tool_call"}
        ]
        [call] = items["tool_calls"]
        assert (call.name, call.input) == ("lookup", {"topic": "v3"})
        assert (await call.output)["content"] == "notes on v3"
        [review] = items["subgraphs"]
        assert review.graph_name == "review" and review.namespace[0].startswith("review:")
        assert review.status == "completed"
        assert [e["phase"] for e in items["progress"]] == ["start", "end"]
        assert items["values"][0]["messages"][0]["content"] == "what is v3?"

        # each projection alone replays the current run from its start
        async for message in thread.messages:  # consumed while it streams, token by token
            tokens = [t async for t in message.text]
            assert "".join(tokens) in (CALL_TEXT, ANSWER) and len(tokens) > 1
        [child] = [h async for h in thread.subgraphs]
        notes = [e async for e in child.extensions["progress"]]
        assert [n["phase"] for n in notes] == ["start", "end"]
        assert [v async for v in child.values][-1]["approved"] == "auto"
        final = await thread.output
        assert final["approved"] == "auto" and not thread.interrupted
        assert _text(final["messages"][-1]) == ANSWER
        assert (await thread.values)["approved"] == "auto"
    await client.aclose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_async_interrupt_answered_with_respond(graphdock_server, transport):
    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        await thread.run.start(input=QUESTION)
        snapshots = [v async for v in thread.values]  # ends where the run stops to ask
        assert snapshots and thread.interrupted
        [interrupt] = thread.interrupts
        assert interrupt["value"] == {"question": "Send the answer?"}
        assert interrupt["namespace"][0].startswith("review:")
        with pytest.raises(RuntimeError, match="not outstanding"):
            await thread.run.respond("no", interrupt_id="nope")
        await thread.run.respond("yes")
        assert not thread.interrupted
        final = await thread.output
        assert final["approved"] == "yes" and _text(final["messages"][-1]) == ANSWER
        with pytest.raises(RuntimeError, match="no outstanding interrupt"):
            await thread.run.respond("again")
    await client.aclose()


async def test_async_cancel_ends_the_projections_and_the_output_says_so(graphdock_server):
    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="slow") as thread:
        run = await thread.run.start(input={"sleep": 30})
        snapshots = []
        async for state in thread.values:
            snapshots.append(state)
            if len(snapshots) == 1:  # the run is under way: cancel it
                assert await thread.run.cancel() == {"run_ids": [run["run_id"]]}
        assert len(snapshots) == 1
        with pytest.raises(RunFailedError, match="cancelled") as failed:
            await thread.output.with_timeout(30)
        assert failed.value.reason == "cancelled"
        with pytest.raises(ProtocolError) as nothing:
            await thread.run.cancel()
        assert nothing.value.code == "no_such_run"
    await client.aclose()


async def test_replay_since_and_two_concurrent_subscribers(graphdock_server):
    """`since` gives exactly the events after it; two subscriptions read side by side, each
    with its own filter."""
    client = get_client(url=graphdock_server, api_key=None)
    async with client.threads.stream(assistant_id="toolagent") as thread:
        await thread.run.start(input=QUESTION)
        tokens_filter = {"channels": ["messages"], "namespaces": [[]], "depth": 0}

        async def collect(stream):
            return [e async for e in stream]

        tokens, review = await asyncio.gather(
            collect(thread.subscribe(**tokens_filter)),
            collect(thread.subscribe(["custom", "lifecycle"], namespaces=[["review"]])),
        )
        assert {e["method"] for e in tokens} == {"messages"}
        assert all(e["params"]["namespace"] == [] for e in tokens)
        assert {e["method"] for e in review} == {"custom", "lifecycle"}
        assert [e["params"]["data"] for e in review if e["method"] == "custom"] == [
            {"name": "progress", "step": "review", "phase": "start"},
            {"payload": "plain note"},
        ]
        everything = [e async for e in thread.events]
        seqs = [e["seq"] for e in everything]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        cut = seqs[len(seqs) // 2]
        missed = [e async for e in thread.subscribe(list(_ALL), since=cut)]
        assert missed == [e for e in everything if e["seq"] > cut]
    await client.aclose()


_ALL = ("values", "updates", "messages", "tools", "lifecycle", "input", "checkpoints", "tasks", "custom")  # fmt: skip


async def test_a_dropped_connection_is_rejoined_without_loss(graphdock_server):
    """A proxy cuts the subscription after a few events; the session reconnects with
    `since` and the projection gets every event once."""
    proxy = await _CuttingProxy.start(graphdock_server, cut_after_bytes=3000)
    client = get_client(url=proxy.url, api_key=None)
    try:
        async with client.threads.stream(assistant_id="toolagent") as thread:
            await thread.run.start(input={**QUESTION, "ask": False})
            events = [e async for e in thread.events]
        assert proxy.cuts >= 1
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert events[-1]["params"]["data"]["event"] == "completed"
    finally:
        await client.aclose()
        await proxy.close()


async def test_a_stream_for_an_unknown_thread_is_a_404(graphdock_server):
    client = get_client(url=graphdock_server, api_key=None)
    for transport in TRANSPORTS:
        async with client.threads.stream(
            str(uuid.uuid4()), assistant_id="agent", transport=transport
        ) as thread:
            with pytest.raises(NotFoundError):
                [e async for e in thread.events]
            with pytest.raises(ProtocolError) as bad:
                await thread.run.start(input={}, config=[])  # type: ignore[arg-type]
            assert bad.value.code == "invalid_argument"
    await client.aclose()


# ---------------------------------------------------------------- sync
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sync_session(graphdock_server, transport):
    client = get_sync_client(url=graphdock_server, api_key=None)
    with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        thread.run.start(input=QUESTION)
        streamed = []
        for message in thread.messages:
            streamed.append(list(message.text))
        assert streamed[0] == ["Let", " me", " look", " that", " up."]
        assert "".join(streamed[1]) == ANSWER
        [call] = list(thread.tool_calls)
        assert call.output["content"] == "notes on v3"
        [review] = list(thread.subgraphs)
        assert review.status == "interrupted"
        assert [e["phase"] for e in review.extensions["progress"]] == ["start"]
        assert list(thread.values) and thread.interrupted
        assert thread.output["messages"][-1]["content"][0]["text"] == ANSWER  # at the interrupt
        thread.run.respond("approved")
        assert thread.output["approved"] == "approved"

        # two subscribers on two threads of their own
        seen: dict[str, list] = {}

        def read(name, channels):
            seen[name] = [e["method"] for e in thread.subscribe(channels)]

        workers = [
            threading.Thread(target=read, args=("lifecycle", ["lifecycle"])),
            threading.Thread(target=read, args=("values", ["values"])),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert set(seen["lifecycle"]) == {"lifecycle"} and set(seen["values"]) == {"values"}
    client.close()


def test_sync_cancel(graphdock_server):
    client = get_sync_client(url=graphdock_server, api_key=None)
    with client.threads.stream(assistant_id="slow", transport="websocket") as thread:
        run = thread.run.start(input={"sleep": 30})
        for _ in thread.values:
            assert thread.run.cancel(run["run_id"]) == {"run_ids": [run["run_id"]]}
        with pytest.raises(RunFailedError, match="cancelled"):
            _ = thread.output
    client.close()


# ---------------------------------------------------------------- the reference
@pytest.fixture(scope="module")
def v3_reference(tmp_path_factory):
    """The reference server with the v3 protocol turned on (skipped without an oracle)."""
    if not os.environ.get("GRAPHDOCK_ORACLE"):
        pytest.skip("GRAPHDOCK_ORACLE is not set")
    from tests.client.conftest import reference_process

    with reference_process(
        Path(os.environ["GRAPHDOCK_ORACLE"]),
        tmp_path_factory.mktemp("v3-reference"),
        {"FF_OPTIMIZED_STREAMING": "true"},
    ) as url:
        yield url


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_our_sdk_against_the_reference(v3_reference, transport):
    client = get_client(url=v3_reference, api_key=None)
    async with client.threads.stream(assistant_id="toolagent", transport=transport) as thread:
        await thread.run.start(input=QUESTION)
        texts = [await m.text async for m in thread.messages]
        assert texts == [CALL_TEXT, ANSWER]
        assert thread.interrupted
        assert thread.interrupts[0]["value"] == {"question": "Send the answer?"}
        await thread.run.respond("yes")
        assert (await thread.output)["approved"] == "yes"
    await client.aclose()


# ---------------------------------------------------------------- a proxy that drops
class _CuttingProxy:
    """A TCP proxy that closes each of its first connections after passing on
    `cut_after_bytes` bytes of a subscription's response, as a dropped network would."""

    def __init__(self, target: str, cut_after_bytes: int):
        host, _, port = target.removeprefix("http://").partition(":")
        self.target = (host, int(port))
        self.cut_after = cut_after_bytes
        self.cuts = 0
        self.server: asyncio.Server | None = None
        self.url = ""

    @classmethod
    async def start(cls, target: str, cut_after_bytes: int) -> _CuttingProxy:
        proxy = cls(target, cut_after_bytes)
        proxy.server = await asyncio.start_server(proxy._serve, "127.0.0.1", 0)
        port = proxy.server.sockets[0].getsockname()[1]
        proxy.url = f"http://127.0.0.1:{port}"
        return proxy

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)

        async def pump(src, dst, watch: bool) -> None:
            streamed = None  # bytes of an event stream passed on so far
            try:
                while data := await src.read(65536):
                    if watch and streamed is None and b"text/event-stream" in data:
                        streamed = 0
                    if streamed is not None and self.cuts < 2:
                        if streamed + len(data) > self.cut_after:
                            dst.write(data[: self.cut_after - streamed])
                            await dst.drain()
                            self.cuts += 1
                            return
                        streamed += len(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass

        up = asyncio.ensure_future(pump(reader, upstream_writer, False))
        await pump(upstream_reader, writer, True)
        up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await up
        for w in (writer, upstream_writer):
            w.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
