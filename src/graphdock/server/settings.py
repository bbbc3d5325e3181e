"""Runtime settings: where to listen, where data lives, how many runs at once.

They come from the command line, else from the environment (the names the official server
reads where one exists), else from these defaults.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


def _env_float(name: str, default: float | None) -> float | None:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass
class Settings:
    config_path: Path = Path("langgraph.json")
    data_dir: Path = Path(".graphdock")
    host: str = "127.0.0.1"
    port: int = 8123
    reload: bool = False
    jobs: bool = True  # run graphs in this process (False: API only)
    concurrency: int = field(default_factory=lambda: int(os.environ.get("N_JOBS_PER_WORKER", "10")))
    run_timeout: float | None = field(
        default_factory=lambda: _env_float("BG_JOB_TIMEOUT_SECS", None)
    )
    event_retention_seconds: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_EVENT_RETENTION_SECONDS", 3600.0)
    )
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URI") or None)
    redis_url: str | None = field(default_factory=lambda: os.environ.get("REDIS_URI") or None)
    cron_interval: float = field(
        default_factory=lambda: _env_float("GRAPHDOCK_CRON_INTERVAL_SECONDS", 1.0)
    )

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
