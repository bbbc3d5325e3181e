"""JSON containment (`metadata @> filter`) for both dialects.

Postgres has the operator natively (and a GIN index serves it); SQLite gets the same
semantics key by key with json_extract, recursing into objects and matching list items.

A top-level value may also be an operator object, as auth handlers return them
(`langgraph_sdk.Auth.types.FilterType`): `{"owner": {"$eq": "alice"}}` is equality and
`{"tags": {"$contains": "a"}}` (or a list of items) means the field is a list holding them.
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
    if dialect == "postgresql" and not _is_jsonb(column):
        column = sa.cast(column, JSONB())  # a JSON document: its GIN index is on this cast
    plain = {k: v for k, v in value.items() if not _is_operator(v)}
    conds = []
    if plain:
        if dialect == "postgresql":
            conds.append(column.op("@>")(sa.cast(sa.literal(plain, type_=JSONB()), JSONB())))
        else:
            conds.extend(_sqlite_conditions(column, [], plain))
    for key, ops in value.items():
        if _is_operator(ops):
            conds.extend(_operator_conditions(column, str(key), ops, dialect))
    return sa.and_(*conds)


OPERATORS = ("$eq", "$contains")


def _is_operator(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k in OPERATORS for k in value)


def _operator_conditions(column, key: str, ops: dict[str, Any], dialect: str) -> list:
    out = []
    for op, operand in ops.items():
        if op == "$contains":
            # the field is a list holding the item (or every item of a list operand)
            items = operand if isinstance(operand, list) else [operand]
            out.append(json_contains(column, {key: items}, dialect))
        elif isinstance(operand, (dict, list)):  # $eq on a structure: exact JSON equality
            if dialect == "postgresql":
                out.append(
                    sa.cast(column.op("->")(sa.literal(key)), JSONB())
                    == sa.cast(sa.literal(operand, type_=JSONB()), JSONB())
                )
            else:
                p = _path([key])
                out.append(
                    sa.func.json(sa.func.json_extract(column, p))
                    == sa.func.json(sa.literal(_dumps(operand)))
                )
        else:  # $eq on a scalar: containment of the key with that value is equality
            out.append(json_contains(column, {key: operand}, dialect))
    return out


def _is_jsonb(column) -> bool:
    kind = column.type
    return isinstance(kind, JSONB) or isinstance(
        getattr(kind, "_variant_mapping", {}).get("postgresql"), JSONB
    )


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
