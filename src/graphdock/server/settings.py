"""Runtime settings: where to listen, where data lives, how many runs at once, and every
other knob the environment turns. The one place the server reads its environment.

They come from the command line (cli.py sets them), else from the environment (the names
the official server reads where one exists: N_JOBS_PER_WORKER, BG_JOB_TIMEOUT_SECS,
DATABASE_URI, REDIS_URI; GRAPHDOCK_<NAME> for the rest), else from these defaults. A value
the environment gets wrong stops the start with one line that names the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphdock.server.config import signing_key


def _env(name: str) -> Any:
    """A field read from exactly this environment variable (and settable by field name)."""
    return AliasChoices(name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GRAPHDOCK_",
        env_ignore_empty=True,
        populate_by_name=True,
        extra="ignore",
        validate_assignment=False,
    )

    config_path: Path = Path("langgraph.json")
    data_dir: Path = Path(".graphdock")
    host: str = "127.0.0.1"
    port: int = Field(8123, ge=0, le=65535)
    reload: bool = False
    dev: bool = False
    """Started by `graphdock dev`: `/` redirects to the UI."""
    jobs: bool = True
    """Run graphs in this process (False: API only)."""
    ephemeral: bool = False
    """langgraph.json `disable_persistence`: the data dir is removed when the server stops."""

    concurrency: int = Field(10, ge=1, validation_alias=_env("N_JOBS_PER_WORKER"))
    """Runs executed at once by this process."""
    run_timeout: float | None = Field(None, gt=0, validation_alias=_env("BG_JOB_TIMEOUT_SECS"))
    """A run that takes longer ends as `timeout`."""
    event_retention_seconds: float = Field(3600.0, ge=0)
    """How long a finished run's events can be replayed."""
    event_memory_mb: float = Field(256.0, ge=0, allow_inf_nan=False)
    """The embedded event bus holds at most this many megabytes of events; past it, the
    events of the runs that finished first are dropped first."""
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URI"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URI"))
    cron_interval: float = Field(
        1.0, gt=0, validation_alias=_env("GRAPHDOCK_CRON_INTERVAL_SECONDS")
    )
    ttl_sweep_interval: float | None = Field(
        None, gt=0, validation_alias=_env("GRAPHDOCK_TTL_SWEEP_SECONDS")
    )
    """How often expired threads and store items are deleted; None: from langgraph.json's
    `sweep_interval_minutes` (store.ttl / checkpointer.ttl), else every 5 minutes."""
    redis_prefix: str = "graphdock:"
    """Scale-out: every Redis key starts with this, so several deployments share one Redis."""
    lease_seconds: float = Field(30.0, gt=0)
    """A worker renews the lease of each run it executes every third of this; a run whose
    lease ran out (its worker died) is re-queued, up to max_attempts executions in all."""
    max_attempts: int = Field(3, ge=1)
    pg_pool_size: int = Field(10, ge=1)
    """Postgres connections of one process: the query pool holds this many (and as many
    again at peaks); checkpoints and the store share a pool of half as many."""
    poll_interval: float = Field(
        2.0, gt=0, validation_alias=_env("GRAPHDOCK_POLL_INTERVAL_SECONDS")
    )
    """How often an idle worker looks for runs when no wake-up reaches it (Redis down)."""
    shutdown_grace: float = Field(
        5.0, ge=0, validation_alias=_env("GRAPHDOCK_SHUTDOWN_GRACE_SECONDS")
    )
    """On SIGTERM: how long in-flight runs may go on before they are handed back."""
    webhook_secret: str | None = Field(None, repr=False)
    """Signs every webhook delivery (Standard Webhooks, `whsec_<base64>`); wins over
    langgraph.json's webhooks.signing_secret."""
    sqlite_checkpoints: Literal["inline", "thread"] = "inline"
    """Embedded backend: how the checkpointer reaches SQLite. "inline" runs each statement
    on the event loop (fastest); "thread" on aiosqlite's thread as langgraph's stock saver
    does, so a very long history read never holds up other requests."""

    # Auth and limits (api/auth.py, api/limits.py read them from here)
    api_keys: str | None = Field(None, repr=False)
    """Comma-separated keys clients send as `x-api-key`."""
    api_keys_file: Path | None = None
    """A file of keys, one a line (`#` comments and blank lines skipped)."""
    auth: str | None = None
    """`off` (or false, 0, no, none): no API keys, whatever else says so (`--no-auth`)."""
    rate_limit: str | None = None
    """Requests per caller, e.g. `100/minute`; off when unset."""
    self_url: str | None = None
    """This server's address, for webhooks given as a path (default: its own port)."""

    # Encryption at rest with the built-in AES (the official server's names)
    aes_key: str | None = Field(None, repr=False, validation_alias=_env("LANGGRAPH_AES_KEY"))
    aes_json_keys: str | None = Field(None, validation_alias=_env("LANGGRAPH_AES_JSON_KEYS"))
    """Comma-separated JSON keys the AES cipher encrypts (besides blobs)."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ValueError(_one_line(exc)) from None

    @field_validator("webhook_secret")
    @classmethod
    def _valid_secret(cls, value: str | None) -> str | None:
        if value is not None:
            signing_key(value)  # raises ValueError saying what is wrong with it
        return value

    @property
    def auth_off(self) -> bool:
        return (self.auth or "").strip().lower() in ("off", "false", "0", "no", "none")

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
        """The settings as one JSON string, for the reloader's server process."""
        return self.model_dump_json()

    @classmethod
    def from_env(cls, raw: str) -> Settings:
        import json

        return cls(**json.loads(raw))


def _one_line(exc: ValidationError) -> str:
    """The first problem, named by the variable a person set."""
    error = exc.errors()[0]
    where = str(error["loc"][0]) if error["loc"] else "settings"
    name = _variable(where)
    message = error["msg"].removeprefix("Value error, ")
    message = f"{name}: {message}"
    field = Settings.model_fields.get(where)
    if field is not None and field.repr is False:
        return message  # a secret: never printed
    return f"{message}, not {error.get('input')!r}"


def _variable(field_or_alias: str) -> str:
    if field_or_alias.isupper():
        return field_or_alias
    if field_or_alias.startswith("GRAPHDOCK_"):
        return field_or_alias
    field = Settings.model_fields.get(field_or_alias)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"GRAPHDOCK_{field_or_alias.upper()}"
