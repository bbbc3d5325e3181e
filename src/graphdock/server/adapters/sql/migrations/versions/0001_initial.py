"""The initial schema: assistants (and their versions), threads, runs and crons.

This first revision creates the tables from `tables.py` as they stood when it was written;
every later change to `tables.py` comes with a revision of its own that alters them.

Revision ID: 0001
"""

from alembic import op

from graphdock.server.adapters.sql.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind=bind)
    if bind.dialect.name == "postgresql":
        # Containment (@>) searches on metadata stay fast at millions of rows.
        for table in ("assistants", "threads", "crons", "runs"):
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_{table}_metadata_gin ON {table} USING gin (metadata jsonb_path_ops)"
            )
        op.execute(
            'CREATE INDEX IF NOT EXISTS ix_threads_values_gin ON threads USING gin ((("values")::jsonb) jsonb_path_ops)'
        )


def downgrade() -> None:
    metadata.drop_all(bind=op.get_bind())
