"""Auth filters in SQL: plain values, `$eq` and `$contains`, the same on SQLite and Postgres,
and the same as the Python matcher the gateway uses for assistants."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from graphdock.server.adapters.sql.filters import json_contains
from graphdock.server.services.access import matches
from tests.conftest import BACKENDS

ROWS = {
    1: {"owner": "alice", "tags": ["a", "b"], "n": 1, "org": {"id": "x"}},
    2: {"owner": "bob", "tags": ["b"], "n": 2, "org": {"id": "y"}},
    3: {"owner": "alice", "tags": [], "n": 1.5},
    4: {"tags": "a"},
}
CASES = [
    ({"owner": "alice"}, {1, 3}),
    ({"owner": {"$eq": "alice"}}, {1, 3}),
    ({"owner": {"$eq": "carol"}}, set()),
    ({"tags": {"$contains": "a"}}, {1}),
    ({"tags": {"$contains": "b"}}, {1, 2}),
    ({"tags": {"$contains": ["a", "b"]}}, {1}),
    ({"owner": "alice", "tags": {"$contains": "b"}}, {1}),
    ({"owner": {"$eq": "alice"}, "n": 1}, {1}),
    ({"org": {"$eq": {"id": "x"}}}, {1}),
    ({"org": {"id": "y"}}, {2}),
]


def _engine(kind: str) -> sa.Engine:
    if kind == "sqlite":
        return sa.create_engine("sqlite://")
    from tests.support import scaleout

    scaleout.ensure_services()
    return sa.create_engine(
        scaleout.pg_url("postgres").replace("postgresql://", "postgresql+psycopg://")
    )


@pytest.mark.parametrize("kind", BACKENDS)
def test_filters_in_sql(kind):
    engine = _engine(kind)
    meta = sa.MetaData()
    json_type = JSONB() if kind == "postgresql" or kind == "postgres" else sa.JSON()
    table = sa.Table(
        "auth_filter_probe",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("metadata", json_type),
        prefixes=["TEMPORARY"],
    )
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(table.insert(), [{"id": k, "metadata": v} for k, v in ROWS.items()])
        for flt, expected in CASES:
            where = json_contains(table.c.metadata, flt, conn.dialect.name)
            got = set(conn.execute(sa.select(table.c.id).where(where)).scalars())
            assert got == expected, (kind, flt)
    engine.dispose()


@pytest.mark.parametrize(("flt", "expected"), CASES)
def test_python_matcher_agrees(flt, expected):
    assert {k for k, v in ROWS.items() if matches(v, flt)} == expected
