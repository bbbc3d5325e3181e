"""Apply the schema migrations at start-up, before any request is served."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic's INFO lines (plugins set up on import, the migration context) say nothing a
# person starting graphdock needs. Set before alembic is imported, which logs the first.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config as AlembicConfig  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(connection: Connection) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
