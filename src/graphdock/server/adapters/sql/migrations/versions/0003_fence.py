"""The fence of checkpoint writes on PostgreSQL: `graphdock_fence(run_id, attempt)`.

A checkpoint written for one execution attempt of a run calls it first, in the write's own
transaction: it reads the run's row FOR SHARE (a claim or a sweep of the run then waits
for the write to commit) and raises SQLSTATE GD001 unless the run is running at that
attempt (a run deleted meanwhile passes). Being a function, it goes down the same pipeline
as the write: no round trip of its own.

Revision ID: 0003_fence
"""

from alembic import op

revision = "0003_fence"
down_revision = "0002"
branch_labels = None
depends_on = None

FENCE = """
CREATE OR REPLACE FUNCTION graphdock_fence(p_run_id text, p_attempt integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    holder record;
BEGIN
    SELECT status, attempt INTO holder FROM runs WHERE run_id = p_run_id FOR SHARE;
    IF FOUND AND (holder.status <> 'running' OR holder.attempt <> p_attempt) THEN
        RAISE EXCEPTION 'attempt % of run % no longer holds it: the run is % at attempt %',
            p_attempt, p_run_id, holder.status, holder.attempt
            USING ERRCODE = 'GD001';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FENCE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS graphdock_fence(text, integer)")
