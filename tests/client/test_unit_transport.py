"""Client behaviour that needs no server: retries, error mapping, headers, wire format."""

from __future__ import annotations

import httpx
import orjson
import pytest

from graphdock.client import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConflictError,
    InternalServerError,
    LangGraphClient,
    NotFoundError,
    RetryPolicy,
    RunError,
    StreamPart,
    SyncLangGraphClient,
    UnprocessableEntityError,
    get_client,
    get_sync_client,
)

FAST = RetryPolicy(max_retries=3, backoff=0.001, max_backoff=0.01)


class Recorder:
    """A MockTransport handler answering from a script of (status, body, headers)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.Response(status, content=content, headers=headers or {})


def clients(handler):
    sync = SyncLangGraphClient(
        httpx.Client(base_url="http://test", transport=httpx.MockTransport(handler)), retry=FAST
    )
    aio = LangGraphClient(
        httpx.AsyncClient(base_url="http://test", transport=httpx.MockTransport(handler)),
        retry=FAST,
    )
    return sync, aio


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_idempotent_requests_retry_on_transient_status(status):
    handler = Recorder((status, {"detail": "busy"}, None), (200, {"thread_id": "t"}, None))
    sync, aio = clients(handler)
    assert sync.threads.get("t") == {"thread_id": "t"}
    assert len(handler.requests) == 2
    handler.answers = [(status, {"detail": "busy"}, None), (200, {"thread_id": "t"}, None)]
    assert await aio.threads.get("t") == {"thread_id": "t"}
    assert len(handler.requests) == 4


async def test_pure_read_posts_retry_but_creating_posts_do_not():
    handler = Recorder((503, {"detail": "x"}, None), (200, 7, None))
    sync, aio = clients(handler)
    assert sync.threads.count() == 7  # POST /threads/count is a read
    handler.answers = [(503, {"detail": "down"}, None)]
    with pytest.raises(InternalServerError) as err:
        await aio.threads.create()
    assert err.value.status_code == 503 and err.value.detail == "down"
    assert [r.url.path for r in handler.requests] == ["/threads/count"] * 2 + ["/threads"]


async def test_retries_give_up_after_max_retries():
    handler = Recorder((503, {"detail": "down"}, None))
    sync, _ = clients(handler)
    with pytest.raises(InternalServerError):
        sync.assistants.get("a")
    assert len(handler.requests) == 1 + FAST.max_retries


async def test_connect_errors_retry_then_raise_connection_error():
    handler = Recorder(httpx.ConnectError("refused"))
    sync, aio = clients(handler)
    with pytest.raises(APIConnectionError) as err:
        sync.runs.create("t", "agent")  # never reached the server: safe to retry even a POST
    assert isinstance(err.value, httpx.TransportError)
    assert len(handler.requests) == 1 + FAST.max_retries
    handler.answers = [httpx.ConnectError("refused"), (200, {"run_id": "r"}, None)]
    assert await aio.runs.create("t", "agent") == {"run_id": "r"}


def test_real_connection_failure_is_a_clear_error():
    client = get_sync_client(url="http://127.0.0.1:9", api_key=None, max_retries=0)
    with pytest.raises(APIConnectionError, match="Connection error"):
        client.threads.count()


def test_status_errors_are_typed_and_httpx_compatible():
    handler = Recorder((404, {"detail": "Thread not found"}, {"x-request-id": "req-1"}))
    sync, _ = clients(handler)
    with pytest.raises(NotFoundError) as err:
        sync.threads.get("nope")
    e = err.value
    assert isinstance(e, httpx.HTTPStatusError) and isinstance(e, APIStatusError)
    assert (e.status_code, e.detail, e.request_id, str(e)) == (
        404,
        "Thread not found",
        "req-1",
        "Thread not found",
    )
    assert e.response.status_code == 404
    handler.answers = [(409, b"plain conflict", None)]
    with pytest.raises(ConflictError, match="plain conflict"):
        sync.threads.create()
    handler.answers = [(422, {"detail": [{"loc": "x"}]}, None)]
    with pytest.raises(UnprocessableEntityError, match="422 Unprocessable Entity"):
        sync.threads.create()


async def test_wait_raises_run_error_unless_told_not_to():
    body = {"__error__": {"error": "ValueError", "message": "boom"}}
    handler = Recorder((200, body, None))
    sync, aio = clients(handler)
    with pytest.raises(RunError) as err:
        await aio.runs.wait("t", "fail")
    assert (err.value.error, err.value.message, str(err.value)) == (
        "ValueError",
        "boom",
        "ValueError: boom",
    )
    assert sync.runs.wait("t", "fail", raise_error=False) == body
    with pytest.raises(RunError):
        sync.runs.join("t", "r")


def test_api_key_header_and_env(monkeypatch):
    seen = Recorder((200, {}, None))
    monkeypatch.setenv("LANGSMITH_API_KEY", ' "from-env" ')
    client = get_sync_client(url="http://test", headers={"X-Custom": "1"})
    client._transport.client._transport = httpx.MockTransport(seen)
    client.http.get("/info")
    assert seen.requests[-1].headers["x-api-key"] == "from-env"
    assert seen.requests[-1].headers["x-custom"] == "1"
    assert seen.requests[-1].headers["user-agent"].startswith("graphdock-py/")
    assert (
        "x-api-key"
        not in get_sync_client(url="http://test", api_key=None)._transport.client.headers
    )
    assert get_client(url="http://test", api_key="k")._transport.client.headers["x-api-key"] == "k"
    with pytest.raises(ValueError, match="reserved header"):
        get_sync_client(url="http://test", headers={"x-api-key": "nope"})


def test_wire_format_of_common_calls():
    handler = Recorder((200, {}, None))
    sync, _ = clients(handler)
    sync.runs.create("t1", "agent")
    sync.runs.cancel("t1", "r1", True)  # seed style: wait positional
    sync.store.get_item(["users", "u1"], "prefs")
    sync.assistants.get_graph("a/b")
    sync.crons.create("t1", "agent", schedule="* * * * *")  # seed form: thread cron
    sync.crons.create("agent", schedule="* * * * *")  # official form: stateless cron
    sync.threads.get_state("t1", "ckpt")  # seed form: checkpoint id positional
    reqs = handler.requests
    assert orjson.loads(reqs[0].content) == {
        "assistant_id": "agent",
        "stream_mode": "values",
        "stream_subgraphs": False,
        "stream_resumable": False,
    }
    assert str(reqs[1].url) == "http://test/threads/t1/runs/r1/cancel?wait=1&action=interrupt"
    assert reqs[1].content == b""
    assert reqs[2].url.params["namespace"] == "users.u1"
    assert reqs[3].url.raw_path == b"/assistants/a%2Fb/graph?xray=false"
    assert reqs[4].url.path == "/threads/t1/runs/crons"
    assert reqs[5].url.path == "/runs/crons"
    assert orjson.loads(reqs[5].content) == {"schedule": "* * * * *", "assistant_id": "agent"}
    assert reqs[6].url.path == "/threads/t1/state/ckpt"
    with pytest.raises(ValueError, match="periods"):
        sync.store.put_item(["a.b"], "k", {})
    with pytest.raises(TypeError):
        sync.threads.get(None)


def test_stream_part_is_a_named_tuple():
    part = StreamPart("values", {"a": 1})
    assert part.id is None and part == ("values", {"a": 1}, None)
    assert part._fields == ("event", "data", "id")


def sse(*events: tuple[str, object, str]) -> bytes:
    return b"".join(
        f"event: {name}\r\ndata: {orjson.dumps(data).decode()}\r\nid: {eid}\r\n\r\n".encode()
        for name, data, eid in events
    )


class ScriptedRunServer:
    """Streams a run in two halves: the first response closes cleanly mid-run."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.status = "running"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        sse_headers = {
            "content-type": "text/event-stream",
            "location": "/threads/t1/runs/r1/stream",
        }
        if request.method == "POST":
            body = sse(("metadata", {"run_id": "r1"}, "1"), ("values", {"n": 1}, "2"))
            return httpx.Response(200, content=body, headers=sse_headers)
        if request.url.path == "/threads/t1/runs/r1":
            status, self.status = self.status, "success"
            return httpx.Response(200, json={"run_id": "r1", "status": status})
        assert request.headers["last-event-id"] == "2"
        return httpx.Response(200, content=sse(("values", {"n": 2}, "3")), headers=sse_headers)


async def test_stream_that_closes_mid_run_is_rejoined_from_last_event_id():
    for is_async in (False, True):
        server = ScriptedRunServer()
        sync, aio = clients(server)
        stream = (aio if is_async else sync).runs.stream("t1", "agent", stream_resumable=True)
        parts = [p async for p in stream] if is_async else list(stream)
        assert [(p.event, p.data, p.id) for p in parts] == [
            ("metadata", {"run_id": "r1"}, "1"),
            ("values", {"n": 1}, "2"),
            ("values", {"n": 2}, "3"),
        ]
        paths = [(r.method, r.url.path) for r in server.requests]
        assert paths == [
            ("POST", "/threads/t1/runs/stream"),
            ("GET", "/threads/t1/runs/r1"),
            ("GET", "/threads/t1/runs/r1/stream"),
            ("GET", "/threads/t1/runs/r1"),
        ]


def test_cross_origin_reconnect_location_is_refused():
    def handler(request):
        headers = {"content-type": "text/event-stream", "location": "http://evil.example/steal"}
        return httpx.Response(200, content=sse(("metadata", {"run_id": "r"}, "1")), headers=headers)

    sync, _ = clients(handler)
    with pytest.raises(ValueError, match="cross-origin"):
        list(sync.runs.stream("t1", "agent"))


async def test_timeouts_are_retried_for_reads_then_raise_timeout_error():
    handler = Recorder(httpx.ReadTimeout("slow"))
    sync, aio = clients(handler)
    with pytest.raises(APITimeoutError) as err:
        await aio.runs.get("t", "r")
    assert isinstance(err.value, httpx.TimeoutException)
    assert len(handler.requests) == 1 + FAST.max_retries
    with pytest.raises(APITimeoutError):
        sync.runs.wait("t", "agent")  # a run-creating POST is not repeated after a read timeout
    assert len(handler.requests) == 2 + FAST.max_retries


def test_timeout_is_configurable():
    client = get_sync_client(url="http://test", api_key=None, timeout=2.5)
    assert client._transport.client.timeout == httpx.Timeout(2.5)
    default = get_client(url="http://test", api_key=None)._transport.client.timeout
    assert (default.connect, default.read) == (5, 300)


async def test_context_managers_close_the_pool():
    async with get_client(url="http://test", api_key=None) as aio:
        assert not aio._transport.client.is_closed
    assert aio._transport.client.is_closed
    with get_sync_client(url="http://test", api_key=None) as sync:
        assert not sync._transport.client.is_closed
    assert sync._transport.client.is_closed
    assert {"http", "assistants", "threads", "runs", "crons", "store"} <= set(vars(sync))


class BrokenBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends a few keep-alive newlines, then the connection drops."""

    def __iter__(self):
        yield b"\n"
        raise httpx.ReadError("connection reset")

    async def __aiter__(self):
        yield b"\n"
        raise httpx.ReadError("connection reset")


async def test_wait_whose_body_drops_is_refetched_from_location():
    def handler(request):
        handler.seen.append((request.method, request.url.path))
        if request.method == "POST":
            headers = {"location": "/threads/t1/runs/r1/join", "content-type": "application/json"}
            return httpx.Response(200, headers=headers, stream=BrokenBody())
        return httpx.Response(200, content=b"\n\n" + orjson.dumps({"count": 2}))

    for is_async in (False, True):
        handler.seen = []
        sync, aio = clients(handler)
        with pytest.warns(UserWarning, match="reconnect to Location"):
            result = (
                await aio.runs.wait("t1", "agent") if is_async else sync.runs.wait("t1", "agent")
            )
        assert result == {"count": 2}
        assert handler.seen == [
            ("POST", "/threads/t1/runs/wait"),
            ("GET", "/threads/t1/runs/r1/join"),
        ]


class DroppingSSE(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One event, then the connection drops."""

    def __iter__(self):
        yield sse(("metadata", {"run_id": "r1"}, "1"))
        raise httpx.ReadError("connection reset")

    async def __aiter__(self):
        yield sse(("metadata", {"run_id": "r1"}, "1"))
        raise httpx.ReadError("connection reset")


def test_stream_gives_up_after_max_reconnects():
    def handler(request):
        handler.count += 1
        if request.method == "POST":
            headers = {
                "content-type": "text/event-stream",
                "location": "/threads/t1/runs/r1/stream",
            }
            return httpx.Response(200, headers=headers, stream=DroppingSSE())
        return httpx.Response(503, json={"detail": "restarting"})

    handler.count = 0
    sync, _ = clients(handler)
    parts = []
    with pytest.raises(APIConnectionError, match="Exceeded maximum SSE reconnection attempts"):
        for part in sync.runs.stream("t1", "agent", stream_resumable=True):
            parts.append(part)
    assert [p.event for p in parts] == ["metadata"]
    assert handler.count == 1 + FAST.max_reconnects  # the POST, then each reconnect attempt
