"""JSON containment (`metadata @> filter`) for both dialects.

Postgres has the operator natively (and a GIN index serves it); SQLite gets the same
semantics key by key with json_extract, recursing into objects and matching list items.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


def _path(parts: list[str]) -> str:
    return "$" + "".join('."' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)


def json_contains(
    column: sa.ColumnElement, value: dict[str, Any], dialect: str
) -> sa.ColumnElement:
    if not value:
        return sa.true()
    if dialect == "postgresql":
        return column.op("@>")(sa.cast(sa.literal(value, type_=JSONB()), JSONB()))
    return sa.and_(*_sqlite_conditions(column, [], value))


def _sqlite_conditions(column, parts: list[str], value: dict[str, Any]) -> list:
    out = []
    for key, expected in value.items():
        path = [*parts, str(key)]
        out.append(_sqlite_match(column, path, expected))
    return out


def _sqlite_match(column, path: list[str], expected: Any):
    p = _path(path)
    if isinstance(expected, dict):
        if not expected:
            return sa.func.json_type(column, p) == "object"
        return sa.and_(*_sqlite_conditions(column, path, expected))
    if expected is None:
        return sa.func.json_type(column, p) == "null"
    if isinstance(expected, bool):
        return sa.func.json_type(column, p) == ("true" if expected else "false")
    if isinstance(expected, list):
        conds = [sa.func.json_type(column, p) == "array"]
        for item in expected:
            each = sa.func.json_each(column, p).table_valued("value", "type")
            if isinstance(item, (dict, list)):
                match = sa.func.json(each.c.value) == sa.func.json(sa.literal(_dumps(item)))
            elif item is None:
                match = each.c.type == "null"
            elif isinstance(item, bool):
                match = each.c.type == ("true" if item else "false")
            else:
                match = each.c.value == item
            conds.append(sa.exists(sa.select(sa.literal(1)).select_from(each).where(match)))
        return sa.and_(*conds)
    kind = "text" if isinstance(expected, str) else ("integer", "real")
    type_check = (
        sa.func.json_type(column, p) == kind
        if isinstance(kind, str)
        else sa.func.json_type(column, p).in_(kind)
    )
    return sa.and_(type_check, sa.func.json_extract(column, p) == expected)


def _dumps(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()
