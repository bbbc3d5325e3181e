"""Table definitions. Metadata is JSONB on Postgres; timestamps are timezone-aware UTC."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# Metadata is searched by containment: JSONB on Postgres, with a GIN index. Other documents
# are JSON (kept as written, key order included: clients see them back as they sent them);
# `values` is searched too, through a GIN index on its JSONB cast.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Document = sa.JSON()
Time = sa.DateTime(timezone=True)

assistants = sa.Table(
    "assistants",
    metadata,
    sa.Column("assistant_id", sa.String(36), primary_key=True),
    sa.Column("graph_id", sa.String, nullable=False),
    sa.Column("config", Document, nullable=False),
    sa.Column("context", Document, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.String, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

assistant_versions = sa.Table(
    "assistant_versions",
    metadata,
    sa.Column("assistant_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("graph_id", sa.String, nullable=False),
    sa.Column("config", Document, nullable=False),
    sa.Column("context", Document, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.String, nullable=True),
    sa.Column("created_at", Time, nullable=False),
)

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("thread_id", sa.String(36), primary_key=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("state_updated_at", Time, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("config", Document, nullable=False),
    sa.Column("values", Document, nullable=True),
    sa.Column("interrupts", Document, nullable=True),  # NULL until the thread's first run ends
    sa.Column("error", Document, nullable=True),
    sa.Column("expires_at", Time, nullable=True),
    sa.Column("ttl", Document, nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("thread_id", sa.String(36), nullable=False),
    sa.Column("assistant_id", sa.String(36), nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("kwargs", Document, nullable=False),
    sa.Column("multitask_strategy", sa.String(16), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("available_at", Time, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("worker_id", sa.String, nullable=True),
    sa.Column("lease_until", Time, nullable=True),
    sa.Column("started_at", Time, nullable=True),
    sa.Column("ended_at", Time, nullable=True),
)

crons = sa.Table(
    "crons",
    metadata,
    sa.Column("cron_id", sa.String(36), primary_key=True),
    sa.Column("assistant_id", sa.String(36), nullable=False),
    sa.Column("thread_id", sa.String(36), nullable=True),
    sa.Column("user_id", sa.String, nullable=True),
    sa.Column("end_time", Time, nullable=True),
    sa.Column("end_time_raw", sa.String, nullable=True),
    sa.Column("schedule", sa.String, nullable=False),
    sa.Column("timezone", sa.String, nullable=True),
    sa.Column("payload", Document, nullable=False),
    sa.Column("next_run_date", Time, nullable=True),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("on_run_completed", sa.String(16), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# What the server records about itself (the encryption key check): name -> JSON.
server_settings = sa.Table(
    "server_settings",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("value", Document, nullable=False),
)

sa.Index("ix_threads_created_at", threads.c.created_at)
sa.Index("ix_threads_status", threads.c.status)
sa.Index("ix_runs_thread_created", runs.c.thread_id, runs.c.created_at)
sa.Index("ix_runs_status_available", runs.c.status, runs.c.available_at)
sa.Index("ix_assistants_graph_id", assistants.c.graph_id)
sa.Index("ix_crons_next_run", crons.c.enabled, crons.c.next_run_date)
