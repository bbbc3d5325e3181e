"""A run stream that drops mid-run is resumed from its Last-Event-ID: nothing lost, nothing repeated.

A small TCP proxy in front of the server cuts the first streaming responses after a few
bytes of body, the way a flaky network or a restarting load balancer would.
"""

from __future__ import annotations

import asyncio
import warnings

import httpx
import pytest

from graphdock.client import LangGraphClient, RetryPolicy, SyncLangGraphClient


class CuttingProxy:
    """Forwards TCP to `upstream`; the first `cuts` responses to a `.../stream` request are
    cut off after `body_bytes` bytes of their body."""

    def __init__(self, upstream: str, *, body_bytes: int, cuts: int):
        url = httpx.URL(upstream)
        self.host, self.port_up = url.host, url.port
        self.body_bytes, self.cuts_left = body_bytes, cuts
        self.cuts_done = 0
        self.request_heads: list[bytes] = []
        self.writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> CuttingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        for writer in list(self.writers):
            try:
                await writer.wait_closed()
            except OSError:
                pass
        await self.server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection(self.host, self.port_up)
        self.writers.update((client_w, up_w))
        cut = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                line = data.split(b"\r\n", 1)[0]
                if line[:4] in (b"GET ", b"POST"):
                    self.request_heads.append(data.split(b"\r\n\r\n", 1)[0])
                    if b"/stream" in line and self.cuts_left > 0:
                        self.cuts_left -= 1
                        cut.set()
                up_w.write(data)
                await up_w.drain()

        async def downstream() -> None:
            buffer = b""
            while data := await up_r.read(65536):
                if cut.is_set():
                    buffer += data
                    head, sep, body = buffer.partition(b"\r\n\r\n")
                    if sep and len(body) >= self.body_bytes:
                        client_w.write(head + sep + body[: self.body_bytes])
                        await client_w.drain()
                        self.cuts_done += 1
                        return
                    continue
                client_w.write(data)
                await client_w.drain()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (client_w, up_w):
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
            self.writers.discard(writer)


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_dropped_stream_resumes_without_loss_or_repeat(server_url, mode, make_api):
    retry = RetryPolicy(backoff=0.05, max_backoff=0.2)
    async with CuttingProxy(server_url, body_bytes=200, cuts=2) as proxy:
        if mode == "async":
            client = LangGraphClient(httpx.AsyncClient(base_url=proxy.url), retry=retry)
        else:
            client = SyncLangGraphClient(httpx.Client(base_url=proxy.url), retry=retry)
        api = make_api(client, mode == "async", proxy.url)
        tid = (await api(client.threads.create))["thread_id"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a resume without Last-Event-ID would warn
            parts = await api.collect(
                client.runs.stream,
                tid,
                "steps",
                input={"delay": 0.3},
                stream_mode="updates",
                stream_resumable=True,
            )
        if mode == "async":
            await client.aclose()
        else:
            client.close()
    assert proxy.cuts_done == 2
    rejoins = [
        h
        for h in proxy.request_heads
        if h.startswith(b"GET ") and b"/stream" in h.split(b"\r\n")[0]
    ]
    assert len(rejoins) == 2 and all(b"last-event-id:" in h.lower() for h in rejoins)
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates", "updates"]
    assert [list(p.data) for p in parts[1:]] == [["s1"], ["s2"], ["s3"], ["s4"]]
    ids = [p.id for p in parts]
    assert len(set(ids)) == len(ids)
