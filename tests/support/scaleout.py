"""PostgreSQL and Redis for the scale-out tests: started if they are down, one fresh database
(copied from a pre-migrated template, so it takes a fraction of a second) and one Redis key
prefix per server a test starts."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_HOST = os.environ.get("GRAPHDOCK_TEST_PGHOST", "127.0.0.1")
PG_PORT = int(os.environ.get("GRAPHDOCK_TEST_PGPORT", "5432"))
PG_USER = os.environ.get("GRAPHDOCK_TEST_PGUSER", "postgres")
REDIS_URL = os.environ.get("GRAPHDOCK_TEST_REDIS", "redis://127.0.0.1:6379/0")
TEMPLATE_LOCK = 0x6764_7465_6D70  # advisory lock: one test process builds the template

_ready = threading.Lock()
_checked = False


def pg_url(database: str, *, host: str = PG_HOST, port: int = PG_PORT) -> str:
    return f"postgresql://{PG_USER}@{host}:{port}/{database}"


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _wait_port(host: str, port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return True
        time.sleep(0.2)
    return False


def ensure_services() -> None:
    """Start the machine's PostgreSQL and Redis if they are not answering."""
    global _checked
    with _ready:
        if _checked:
            return
        if not _port_open(PG_HOST, PG_PORT):
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
            )
            if not _wait_port(PG_HOST, PG_PORT):
                raise RuntimeError(f"PostgreSQL is not answering on {PG_HOST}:{PG_PORT}")
        if not _port_open("127.0.0.1", 6379):
            os.makedirs("/var/lib/redis", exist_ok=True)
            os.makedirs("/var/log/redis", exist_ok=True)
            subprocess.run(
                ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                 "--port", "6379", "--save", "", "--appendonly", "no",
                 "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                check=False,
            )  # fmt: skip
            if not _wait_port("127.0.0.1", 6379):
                raise RuntimeError("Redis is not answering on 127.0.0.1:6379")
        _checked = True


def _admin(host: str = PG_HOST, port: int = PG_PORT):
    import psycopg

    return psycopg.connect(host=host, port=port, user=PG_USER, dbname="postgres", autocommit=True)


def _schema_hash(config_path: Path) -> str:
    """Changes whenever the schema could: graphdock's migrations and tables, the app's
    config, the installed langgraph Postgres checkpointer."""
    from importlib.metadata import version

    h = hashlib.sha1()
    sql = ROOT / "src" / "graphdock" / "server" / "adapters" / "sql"
    for path in sorted([sql / "tables.py", *(sql / "migrations" / "versions").glob("*.py")]):
        h.update(path.read_bytes())
    h.update(config_path.read_bytes())  # its store.index shapes the store's tables
    h.update(version("langgraph-checkpoint-postgres").encode())
    return h.hexdigest()[:12]


def _migrate(url: str, config_path: Path) -> None:
    from graphdock.server.adapters.postgres.backend import setup_database
    from graphdock.server.config import load_config

    config = load_config(config_path)
    errors: list[BaseException] = []

    def run() -> None:  # its own thread: the caller may be inside a running event loop
        try:
            asyncio.run(setup_database(url, config))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def template(config_path: Path, *, host: str = PG_HOST, port: int = PG_PORT) -> str:
    """The name of a database migrated for `config_path`, built once (across processes)."""
    name = f"gd_tpl_{_schema_hash(config_path)}"
    with _admin(host, port) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK,))
        try:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                building = f"{name}_build"
                conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{building}"')
                _migrate(pg_url(building, host=host, port=port), config_path)
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK,))
    return name


def create_database(config_path: Path, *, host: str = PG_HOST, port: int = PG_PORT) -> str:
    """A fresh, migrated database; its URL."""
    ensure_services()
    tpl = template(config_path, host=host, port=port)
    name = f"gd_{uuid.uuid4().hex[:16]}"
    with _admin(host, port) as conn:
        for attempt in range(20):  # the template is briefly busy while another copy starts
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
                break
            except Exception as exc:
                if "being accessed by other users" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.1)
    return pg_url(name, host=host, port=port)


_drops: list[threading.Thread] = []


def create_empty_database(*, host: str = PG_HOST, port: int = PG_PORT) -> str:
    """A fresh database without graphdock's schema (the first process to start migrates)."""
    ensure_services()
    name = f"gd_{uuid.uuid4().hex[:16]}"
    with _admin(host, port) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name, host=host, port=port)


def drop_database_later(url: str) -> None:
    """Drop in the background (a forced drop waits for a checkpoint): tests go on meanwhile."""
    thread = threading.Thread(target=drop_database, args=(url,), daemon=True)
    thread.start()
    _drops.append(thread)


def wait_for_drops(timeout: float = 30) -> None:
    for thread in _drops:
        thread.join(timeout)


def drop_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with (
        contextlib.suppress(Exception),
        _admin(parsed.host or PG_HOST, parsed.port or PG_PORT) as conn,
    ):
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def new_prefix() -> str:
    return f"gdtest:{uuid.uuid4().hex[:12]}:"


def drop_prefix(prefix: str) -> None:
    import redis

    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
