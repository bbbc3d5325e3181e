"""Fixtures shared by every test: a real graphdock server serving tests/app on a free port."""

from __future__ import annotations

import uuid

import pytest

from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def graphdock_server(tmp_path_factory):
    """The base URL of a graphdock server shared by the session's tests (each test makes its own data)."""
    server = ServerProcess(tmp_path_factory.mktemp("graphdock")).start()
    yield server.url
    server.stop()


@pytest.fixture
def server_process(tmp_path):
    """A factory for servers a test owns: restart, kill, or configure them as it needs."""
    started: list[ServerProcess] = []

    def start(**kwargs) -> ServerProcess:
        server = ServerProcess(
            kwargs.pop("data_dir", tmp_path / f"data-{len(started)}"), **kwargs
        ).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sdk(graphdock_server):
    """The official Python SDK (a test-only dependency) pointed at our server."""
    from langgraph_sdk import get_client

    return get_client(url=graphdock_server, api_key=None)


@pytest.fixture
def unique():
    """A marker unique to one test, for metadata filters that must not see other tests' data."""
    return uuid.uuid4().hex
