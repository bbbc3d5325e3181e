"""What the server records about itself: `server_settings` (the encryption key check).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 creates the tables of tables.py as they are now, this one included.
    if "server_settings" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "server_settings",
            sa.Column("name", sa.String, primary_key=True),
            sa.Column("value", sa.JSON, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("server_settings")
