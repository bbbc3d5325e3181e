"""Fixtures for the client tests: the reference server (oracle), the server under test,
and an `api` helper that runs one test body through the async or the sync client."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphdock.client import get_client, get_sync_client
from tests.conftest import BACKENDS

APP_DIR = Path(__file__).resolve().parents[1] / "app"
DEFAULT_ORACLE = Path(__file__).resolve().parents[2] / ".venv-oracle" / "bin" / "langgraph"
# Graph names used by the seed reference's examples, served by the agent graph.
SEED_GRAPH_ALIASES = {"my_graph": "./graph.py:graph", "stock_analyzer": "./graph.py:graph"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ok(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reference server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"reference server at {url} not ready after {timeout} s")


@contextlib.contextmanager
def reference_process(oracle: Path, workdir: Path, env: dict[str, str] | None = None):
    """Run the reference server (`langgraph dev`) on tests/app in `workdir`; its base URL."""
    shutil.copytree(APP_DIR, workdir, dirs_exist_ok=True)
    config = json.loads((workdir / "langgraph.json").read_text())
    config["graphs"].update(SEED_GRAPH_ALIASES)
    (workdir / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    log = open(workdir / "server.log", "wb")  # closed at teardown
    cmd = [str(oracle), "dev", "--no-browser", "--no-reload", "--port", str(port)]
    cmd += ["--n-jobs-per-worker", "10", "--config", "langgraph.json"]
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_API_KEY": "", **(env or {})}
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def reference_server(tmp_path_factory: pytest.TempPathFactory):
    """Base URL of the reference LangGraph server (`langgraph dev`) serving tests/app."""
    oracle = Path(os.environ.get("GRAPHDOCK_ORACLE") or DEFAULT_ORACLE)
    if not oracle.exists():
        pytest.skip(f"reference server not installed ({oracle} missing; run `make oracle`)")
    with reference_process(oracle, tmp_path_factory.mktemp("reference-app")) as url:
        yield url


TARGETS = [
    *(f"graphdock-{backend}" for backend in BACKENDS),
    "reference",
]


@pytest.fixture(scope="session", params=TARGETS)
def server_url(request: pytest.FixtureRequest) -> str:
    """Each test runs against our server (on each backend) and against the reference."""
    name = request.param
    if name.startswith("graphdock-"):
        return request.getfixturevalue("_session_servers")(name.removeprefix("graphdock-")).url
    return request.getfixturevalue(f"{name}_server")


class Api:
    """Runs a client call the same way for both clients.

    `await api(c.threads.get, tid)` awaits the async client, or runs the sync client in a
    worker thread (so a server living on this event loop is never blocked).
    `await api.collect(c.runs.stream, ...)` gathers a stream into a list.
    """

    def __init__(self, client: Any, is_async: bool, url: str):
        self.client, self.is_async, self.url = client, is_async, url

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.is_async:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def collect(
        self, fn: Callable[..., Any], *args: Any, limit: int | None = None, **kwargs: Any
    ) -> list:
        if self.is_async:
            out = []
            async for item in fn(*args, **kwargs):
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
            return out

        def gather() -> list:
            out = []
            for item in fn(*args, **kwargs):
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
            return out

        return await asyncio.to_thread(gather)


@pytest.fixture
def make_api() -> type[Api]:
    """The `Api` helper class, for tests that build their own client."""
    return Api


@pytest.fixture(params=["async", "sync"])
async def api(request: pytest.FixtureRequest, server_url: str):
    if request.param == "async":
        client = get_client(url=server_url, api_key=None)
        yield Api(client, True, server_url)
        await client.aclose()
    else:
        client = get_sync_client(url=server_url, api_key=None)
        yield Api(client, False, server_url)
        client.close()
