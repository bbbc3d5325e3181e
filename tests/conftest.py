"""Fixtures shared by every test: a real graphdock server serving tests/app on a free port.

The server fixtures are parametrised over the backends: the embedded one ("sqlite") and
the scale-out one ("postgres": PostgreSQL + Redis, started if they are down, a fresh
database and Redis key prefix per server). GRAPHDOCK_TEST_BACKENDS=sqlite (comma-separated)
narrows the set. A test marked `sqlite_only` (or `postgres_only`) runs on that backend only.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support.server import ServerProcess

BACKENDS = [
    b.strip()
    for b in os.environ.get("GRAPHDOCK_TEST_BACKENDS", "sqlite,postgres").split(",")
    if b.strip()
]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: run on the embedded SQLite backend only")
    config.addinivalue_line("markers", "postgres_only: run on the Postgres + Redis backend only")
    config.addinivalue_line(
        "markers",
        "faults: stops and restarts a private Redis or PostgreSQL under running processes "
        "(tests/server/test_faults.py); `-m 'not faults'` leaves them out",
    )
    config.addinivalue_line(
        "markers",
        "long: runs for tens of seconds; scheduled first, so that the parallel workers "
        "end together instead of one finishing it alone",
    )


def pytest_collection_modifyitems(config, items):
    """The `long` tests first (a stable sort keeps the rest in collection order)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("sqlite_only"):
        kinds = [b for b in BACKENDS if b == "sqlite"] or ["sqlite"]
    elif metafunc.definition.get_closest_marker("postgres_only"):
        kinds = ["postgres"]
    else:
        kinds = BACKENDS
    for name in ("graphdock_server", "server_process"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(
                name,
                kinds,
                indirect=True,
                scope="session" if name == "graphdock_server" else "function",
            )


@pytest.fixture(scope="session")
def _session_servers(tmp_path_factory):
    """One server per backend for the whole session, started when first asked for."""
    servers: dict[str, ServerProcess] = {}

    def get(kind: str) -> ServerProcess:
        if kind not in servers:
            servers[kind] = ServerProcess(
                tmp_path_factory.mktemp(f"graphdock-{kind}"), backend=kind
            ).start()
        return servers[kind]

    yield get
    for server in servers.values():
        server.cleanup()
    if "postgres" in servers:
        from tests.support import scaleout

        scaleout.wait_for_drops()


@pytest.fixture(scope="session")
def graphdock_server(request, _session_servers):
    """The base URL of a graphdock server shared by the session's tests (each test makes its own data)."""
    return _session_servers(getattr(request, "param", "sqlite")).url


@pytest.fixture
def server_process(request, tmp_path):
    """A factory for servers a test owns: restart, kill, or configure them as it needs."""
    started: list[ServerProcess] = []
    backend = getattr(request, "param", "sqlite")

    def start(**kwargs) -> ServerProcess:
        kwargs.setdefault("backend", backend)
        server = ServerProcess(
            kwargs.pop("data_dir", tmp_path / f"data-{len(started)}"), **kwargs
        ).start()
        started.append(server)
        return server

    start.backend = backend
    start.started = started
    yield start
    for server in started:
        server.stop()
    for server in started:
        server.cleanup()


@pytest.fixture
def sdk(graphdock_server):
    """The official Python SDK (a test-only dependency) pointed at our server."""
    from langgraph_sdk import get_client

    return get_client(url=graphdock_server, api_key=None)


@pytest.fixture
def unique():
    """A marker unique to one test, for metadata filters that must not see other tests' data."""
    return uuid.uuid4().hex
