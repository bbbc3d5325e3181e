"""Runtime settings: where to listen, where data lives, how many runs at once.

They come from the command line, else from the environment (the names the official server
reads where one exists), else from these defaults.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graphdock.server.config import signing_key


def _env_number(name: str, default, kind):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {noun}, not {value!r}") from None


def _env_float(name: str, default: float | None) -> float | None:
    return _env_number(name, default, float)


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int)


@dataclass
class Settings:
    config_path: Path = Path("langgraph.json")
    data_dir: Path = Path(".graphdock")
    host: str = "127.0.0.1"
    port: int = 8123
    reload: bool = False
    dev: bool = False  # started by `graphdock dev`: `/` redirects to the UI
    jobs: bool = True  # run graphs in this process (False: API only)
    concurrency: int = field(default_factory=lambda: _env_int("N_JOBS_PER_WORKER", 10))
    run_timeout: float | None = field(
        default_factory=lambda: _env_float("BG_JOB_TIMEOUT_SECS", None)
    )
    event_retention_seconds: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_EVENT_RETENTION_SECONDS", 3600.0)
    )
    # The embedded event bus holds at most this many megabytes of events; past it, the
    # events of the runs that finished first are dropped first.
    event_memory_mb: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_EVENT_MEMORY_MB", 256.0)
    )
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URI") or None)
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URI") or None)
    cron_interval: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_CRON_INTERVAL_SECONDS", 1.0)
    )
    # How often expired threads and store items are deleted; None: from langgraph.json's
    # `sweep_interval_minutes` (store.ttl / checkpointer.ttl), else every 5 minutes.
    ttl_sweep_interval: float | None = field(
        default_factory=lambda: _env_float("GRAPHDOCK_TTL_SWEEP_SECONDS", None)
    )
    # Scale-out (Postgres + Redis): keys in Redis start with this prefix, so several
    # deployments (or test runs) can share one Redis.
    redis_prefix: str = field(
        default_factory=lambda: os.environ.get("GRAPHDOCK_REDIS_PREFIX") or "graphdock:"
    )
    # A worker renews the lease of each run it executes every lease/3 seconds; a run whose
    # lease ran out (its worker died) is re-queued, up to max_attempts executions in all.
    lease_seconds: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_LEASE_SECONDS", 30.0)
    )
    max_attempts: int = field(default_factory=lambda: _env_int("GRAPHDOCK_MAX_ATTEMPTS", 3))
    # Postgres connections of one process: the query pool holds this many (and as many again
    # at peaks); checkpoints and the store share a pool of half as many.
    pg_pool_size: int = field(default_factory=lambda: _env_int("GRAPHDOCK_PG_POOL_SIZE", 10))
    # How often an idle worker looks for runs when no wake-up reaches it (Redis down).
    poll_interval: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_POLL_INTERVAL_SECONDS", 2.0)
    )
    # On SIGTERM: how long in-flight runs may go on before they are handed back to the queue.
    shutdown_grace: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_SHUTDOWN_GRACE_SECONDS", 5.0)
    )

    # Signs every webhook delivery (Standard Webhooks, `whsec_<base64>`); wins over
    # langgraph.json's webhooks.signing_secret.
    webhook_secret: str | None = field(
        default_factory=lambda: os.environ.get("GRAPHDOCK_WEBHOOK_SECRET") or None, repr=False
    )

    # Embedded backend: how the checkpointer reaches SQLite. "inline" runs each statement on
    # the event loop (fastest: a statement takes microseconds, a trip to a thread more);
    # "thread" runs them on aiosqlite's thread as langgraph's stock saver does, so a very
    # long history read never holds up other requests.
    sqlite_checkpoints: str = field(
        default_factory=lambda: os.environ.get("GRAPHDOCK_SQLITE_CHECKPOINTS") or "inline"
    )

    # `disable_persistence`: the data dir is a temporary folder, removed when the server stops.
    ephemeral: bool = False

    def __post_init__(self) -> None:
        if self.sqlite_checkpoints not in ("inline", "thread"):
            raise ValueError(
                f"GRAPHDOCK_SQLITE_CHECKPOINTS must be 'inline' or 'thread', "
                f"not {self.sqlite_checkpoints!r}"
            )
        if not 0 <= self.event_memory_mb < float("inf"):  # NaN too
            raise ValueError(
                f"GRAPHDOCK_EVENT_MEMORY_MB must be a number of megabytes, 0 or more, "
                f"not {self.event_memory_mb!r}"
            )
        if self.webhook_secret is not None:
            try:
                signing_key(self.webhook_secret)
            except ValueError as exc:
                raise ValueError(f"GRAPHDOCK_WEBHOOK_SECRET {exc}") from None

    @property
    def event_memory_bytes(self) -> int:
        return int(self.event_memory_mb * 1024 * 1024)

    @property
    def webhook_signing_key(self) -> bytes | None:
        return signing_key(self.webhook_secret) if self.webhook_secret else None

    @property
    def storage_kind(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "graphdock.sqlite"

    def to_env(self) -> str:
        import json

        return json.dumps(
            {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        )

    @classmethod
    def from_env(cls, raw: str) -> Settings:
        import json

        values = json.loads(raw)
        for key in ("config_path", "data_dir"):
            values[key] = Path(values[key])
        return cls(**values)
