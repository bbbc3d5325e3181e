"""A real graphdock server in a subprocess, on a free port, with its own data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TEST_APP = ROOT / "tests" / "app" / "langgraph.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60.0):
    """`check()`'s first truthy value, polled until `timeout` (then an AssertionError that
    says what was waited for)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def start_steps_run(
    client: httpx.Client, markers: Path, delay: float, **delays: float
) -> tuple[str, str]:
    """A new thread and a run of the `steps` graph on it (four steps of `delay` seconds, or as
    `delays` says for some, e.g. s4=3.0; each leaves a marker file in `markers` and is
    checkpointed before the next starts): (thread, run)."""
    markers.mkdir(parents=True, exist_ok=True)
    thread_id = client.post("/threads", json={}).json()["thread_id"]
    body = {
        "assistant_id": "steps",
        "input": {"delay": delay, "delays": delays, "marker_dir": str(markers)},
        "durability": "sync",
    }
    return thread_id, client.post(f"/threads/{thread_id}/runs", json=body).json()["run_id"]


# Scale-out servers in tests: a lost worker's runs are re-queued after this many seconds.
TEST_LEASE_SECONDS = "6"


class ServerProcess:
    """`backend="postgres"`: Postgres + Redis; a fresh database and Redis key prefix unless
    `database_url` / `redis_prefix` are given (to put several processes on one database),
    on the machine's Redis unless `redis_url` is given.
    `command="worker"`: a `graphdock worker` (no HTTP; ready when its log says so)."""

    def __init__(self, data_dir: Path, config: Path = TEST_APP, *, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None, port: int | None = None, command: str = "serve",
                 backend: str = "sqlite", database_url: str | None = None,
                 redis_prefix: str | None = None, redis_url: str | None = None):  # fmt: skip
        self.data_dir = data_dir
        self.config = config
        self.extra_args = extra_args or []
        self.env = env or {}
        self.port = port or free_port()
        self.command = command
        self.backend = backend
        self.database_url = database_url
        self.redis_prefix = redis_prefix
        self.redis_url = redis_url
        self.owns_database = False
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / f"{command}-{self.port}.log"

    def _scaleout(self) -> tuple[list[str], dict[str, str]]:
        from tests.support import scaleout

        scaleout.ensure_services()
        if self.database_url is None:
            self.database_url = scaleout.create_database(self.config)
            self.owns_database = True
        if self.redis_prefix is None:
            self.redis_prefix = scaleout.new_prefix()
        redis_url = self.redis_url or scaleout.REDIS_URL
        args = ["--database-url", self.database_url, "--redis-url", redis_url]
        env = {
            "GRAPHDOCK_REDIS_PREFIX": self.redis_prefix,
            "GRAPHDOCK_LEASE_SECONDS": TEST_LEASE_SECONDS,
            "GRAPHDOCK_PG_POOL_SIZE": "3",  # many test servers share the machine's Postgres
        }
        return args, env

    def cleanup(self) -> None:
        """Stop, and drop the database and Redis keys this server created."""
        self.stop()
        if self.backend != "postgres":
            return
        from tests.support import scaleout

        if self.owns_database and self.database_url:
            scaleout.drop_database_later(self.database_url)
            if self.redis_prefix:
                scaleout.drop_prefix(self.redis_prefix)

    def _auth_configured(self) -> bool:
        """API keys in env, an auth.path in the config, or --no-auth already given."""
        import json

        if {"GRAPHDOCK_API_KEYS", "GRAPHDOCK_API_KEYS_FILE"} & set(self.env):
            return True
        try:
            return bool((json.loads(self.config.read_text()).get("auth") or {}).get("path"))
        except (OSError, ValueError, AttributeError):
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "graphdock.cli", self.command, "--config", str(self.config),
                "--data-dir", str(self.data_dir), "--log-level", "warning", *self.extra_args]  # fmt: skip
        if self.command != "worker":
            args += ["--port", str(self.port)]
        if self.command == "dev":
            args.append("--no-reload")
        if self.command == "serve" and not self._auth_configured() and "--no-auth" not in args:
            args.append("--no-auth")  # `serve` refuses to start without auth otherwise
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for key in ("DATABASE_URI", "REDIS_URI"):
            env.pop(key, None)
        if self.backend == "postgres":
            more_args, more_env = self._scaleout()
            args += more_args
            env.update(more_env)
        env.update(self.env)
        log = open(self.log_path, "ab")
        start_at = log.tell()
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.config.parent
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"graphdock exited with {self.proc.returncode}:\n{self.log()}")
            if self.command == "worker":
                if b": ready" in self.log_path.read_bytes()[start_at:]:
                    return self
            else:
                try:
                    if httpx.get(self.url + "/ok", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"graphdock did not answer on {self.url} within {timeout}s:\n{self.log()}"
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()
