"""Built-in API keys (x-api-key, what the official SDK sends), the rate limit, CORS, and
`serve` refusing to start without auth."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from langgraph_sdk import get_client

from tests.support.server import TEST_APP, ServerProcess


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    keys_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys_file.write_text("# team keys\nkey-from-file\n\n")
    server = ServerProcess(
        tmp_path_factory.mktemp("keyed"),
        env={
            "GRAPHDOCK_API_KEYS": "key-one, key-two",
            "GRAPHDOCK_API_KEYS_FILE": str(keys_file),
            "GRAPHDOCK_RATE_LIMIT": "8/minute",
        },
    ).start()
    yield server
    server.stop()


def test_serve_refuses_to_start_without_auth(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHDOCK_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "graphdock.cli",
            "serve",
            "--config",
            str(TEST_APP),
            "--data-dir",
            str(tmp_path),
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "serve refuses to start without auth" in proc.stderr
    assert "--no-auth" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_startup_message_names_the_auth(keyed_server, tmp_path):
    assert "auth:  API keys (3 key(s), sent as x-api-key)" in keyed_server.log()


async def test_keys_are_required(keyed_server):
    url = keyed_server.url
    missing = httpx.post(url + "/threads/search", json={})
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Missing API key: send it in the x-api-key header"}
    wrong = httpx.post(url + "/threads/search", json={}, headers={"x-api-key": "key-on"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid API key"}
    assert httpx.get(url + "/ok").status_code == 200  # health checks need no key
    for key in ("key-two", "key-from-file"):
        client = get_client(url=url, api_key=key)
        thread = await client.threads.create()
        assert (await client.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
    assert "key-two" not in keyed_server.log() and "key-from-file" not in keyed_server.log()


async def test_key_never_reaches_run_config(keyed_server):
    client = get_client(url=keyed_server.url, api_key="key-from-file")
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input={"messages": []})
    run = (await client.runs.list(thread["thread_id"]))[0]
    assert "key-from-file" not in str(run)


def test_keys_guard_mcp_too(keyed_server):
    """The MCP endpoint is mounted behind the same front door (one request per key here:
    the module's rate limit is 8 a minute)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    url, accept = keyed_server.url + "/mcp", {"accept": "application/json"}
    assert httpx.post(url, json=body, headers=accept, timeout=60).status_code == 401
    keyed = httpx.post(url, json=body, headers={**accept, "x-api-key": "key-two"}, timeout=60)
    assert keyed.status_code == 200 and keyed.json()["result"]["tools"]


def test_rate_limit_is_per_key(keyed_server):
    url = keyed_server.url
    statuses = [
        httpx.post(url + "/threads/count", json={}, headers={"x-api-key": "key-one"})
        for _ in range(12)
    ]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0].headers["retry-after"]) >= 1
    assert "Rate limit exceeded" in limited[0].json()["detail"]
    # another key has its own budget
    other = httpx.post(url + "/threads/count", json={}, headers={"x-api-key": "key-two"})
    assert other.status_code == 200


def test_default_cors(graphdock_server):
    preflight = httpx.options(
        graphdock_server + "/threads/search",
        headers={
            "origin": "http://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-api-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-max-age"] == "600"
    simple = httpx.post(
        graphdock_server + "/threads/search", json={}, headers={"origin": "http://app.example"}
    )
    assert simple.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip() for h in simple.headers["access-control-expose-headers"].split(",")}
    assert {"x-pagination-total", "x-pagination-next", "content-location"} <= exposed


def test_configured_cors(server_process, tmp_path):
    import json

    config = json.loads(TEST_APP.read_text())
    config["dependencies"] = [str(TEST_APP.parent)]
    config["graphs"] = {"agent": str(TEST_APP.parent / "graph.py") + ":graph"}
    config.pop("store", None)
    config["http"] = {
        "cors": {
            "allow_origins": ["http://allowed.example"],
            "allow_methods": ["GET", "POST"],
            "allow_headers": ["authorization", "content-type"],
            "allow_credentials": True,
            "expose_headers": ["x-pagination-total"],
            "max_age": 42,
        }
    }
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    server = server_process(config=path)
    ok = httpx.options(
        server.url + "/threads/search",
        headers={"origin": "http://allowed.example", "access-control-request-method": "POST"},
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://allowed.example"
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert ok.headers["access-control-max-age"] == "42"
    bad = httpx.options(
        server.url + "/threads/search",
        headers={"origin": "http://evil.example", "access-control-request-method": "POST"},
    )
    assert bad.status_code == 400
    simple = httpx.post(
        server.url + "/threads/search", json={}, headers={"origin": "http://allowed.example"}
    )
    assert simple.headers["access-control-expose-headers"] == "x-pagination-total"
