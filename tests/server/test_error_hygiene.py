"""What a careless or hostile client sends never costs a 500, a half-written record, or the
connection; and a 500 that a bug still causes says nothing but a request id."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest
from langgraph_sdk import get_client

from tests.conftest import BACKENDS
from tests.server.test_hardening import HARDENING_APP
from tests.support.server import ServerProcess

HUGE = 2**70


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    process = ServerProcess(
        tmp_path_factory.mktemp("hygiene"), HARDENING_APP, backend=request.param
    )
    yield process.start()
    process.cleanup()


def detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["detail"]


def test_integers_beyond_64_bits_are_refused_by_name(server):
    with httpx.Client(base_url=server.url) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        assistant = http.post("/assistants", json={"graph_id": "agent"}).json()["assistant_id"]
        attempts = [
            ("POST", "/threads", {"metadata": {"n": HUGE}}, "metadata.n"),
            ("PATCH", f"/threads/{thread}", {"metadata": {"deep": [1, {"n": -HUGE}]}},
             "metadata.deep.1.n"),
            ("POST", "/assistants", {"graph_id": "agent", "metadata": {"n": HUGE}}, "metadata.n"),
            ("PATCH", f"/assistants/{assistant}", {"metadata": {"n": HUGE}}, "metadata.n"),
            ("POST", f"/threads/{thread}/runs/wait",
             {"assistant_id": "agent", "input": {"value": HUGE}}, "input.value"),
            ("POST", "/runs/wait",
             {"assistant_id": "agent", "config": {"configurable": {"n": HUGE}}},
             "config.configurable.n"),
            ("POST", "/runs/crons",
             {"assistant_id": "agent", "schedule": "0 0 * * *", "input": {"n": HUGE}}, "input.n"),
            ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {"n": HUGE}},
             "value.n"),
        ]  # fmt: skip
        for method, url, body, where in attempts:
            message = detail(http.request(method, url, json=body), 422)
            assert where in message and "64 bits" in message, (url, message)
        # nothing was half-written
        assert http.post("/threads/count", json={"metadata": {"n": HUGE}}).status_code == 422
        assert http.get(f"/threads/{thread}").json()["metadata"] == {}
        assert http.get(f"/threads/{thread}/runs").json() == []
        assert http.post("/runs/crons/search", json={}).json() == []


def test_a_configurable_that_is_not_an_object_is_refused(server):
    response = httpx.post(
        f"{server.url}/runs/wait", json={"assistant_id": "agent", "config": {"configurable": "x"}}
    )
    assert "config.configurable" in detail(response, 422)


def test_nul_characters_in_a_run_are_refused_before_it_runs(server):
    with httpx.Client(base_url=server.url) as http:
        thread = http.post("/threads", json={}).json()["thread_id"]
        response = http.post(
            f"/threads/{thread}/runs/wait",
            json={"assistant_id": "agent", "input": {"messages": [{"content": "a\x00b"}]}},
        )
        assert "input.messages.0.content" in detail(response, 422)
        assert http.get(f"/threads/{thread}/runs").json() == []


async def test_a_result_that_cannot_be_stored_ends_the_run_as_an_error_at_once(server):
    """On Postgres the graph's NUL cannot be stored in the thread's JSON: the run must end
    as an error that says so (its waiter told at once), never stay `running`."""
    client = get_client(url=server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    result = await client.runs.wait(thread, "nul", input={}, raise_error=False)
    runs = await client.runs.list(thread)
    if server.backend == "postgres":
        assert result["__error__"]["error"] == "ResultNotRecorded"
        assert "could not be stored" in result["__error__"]["message"]
        assert runs[0]["status"] == "error"
        assert (await client.threads.get(thread))["status"] == "error"
    else:
        assert result == {"value": "before\x00after"}
        assert runs[0]["status"] == "success"


def _exchange(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection; the status and the body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert "close" not in headers.get("connection", ""), headers
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), body


def test_a_500_names_only_a_request_id_and_keeps_the_connection(server):
    assistant = "undrawable"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        assert _exchange(sock, "/ok")[0] == 200
        status, body = _exchange(sock, f"/assistants/{assistant}/graph")
        assert status == 500
        text = body.decode()
        assert "SELECT" not in text and "secret" not in text and "parameters" not in text
        request_id = httpx.Response(500, content=body).json()["detail"].split("request ")[1][:36]
        uuid.UUID(request_id)
        # the same connection serves the next request
        assert _exchange(sock, "/ok")[0] == 200
        assert _exchange(sock, f"/assistants/{assistant}/graph")[0] == 500
        assert _exchange(sock, "/info")[0] == 200
    assert request_id in server.log()


def test_a_webhook_that_is_not_a_url_is_refused_when_the_run_is_made(server):
    with httpx.Client(base_url=server.url) as http:
        for webhook in ("not a url", "ftp://example.com/x", "http://exa mple.com/", "hook"):
            response = http.post(
                "/runs", json={"assistant_id": "agent", "input": {}, "webhook": webhook}
            )
            assert "webhook" in detail(response, 422).lower(), webhook
