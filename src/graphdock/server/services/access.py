"""Auth filters applied in Python, to a record already read: the same rules storage
applies in SQL (adapters/sql/filters.py), for the few checks that cannot be a query."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def matches(metadata: Any, flt: Mapping[str, Any] | None) -> bool:
    """Does a record's metadata pass an auth filter (the same rules storage applies)?"""
    if not flt:
        return True
    if not isinstance(metadata, Mapping):
        return False
    for key, expected in flt.items():
        actual = metadata.get(key)
        if (
            isinstance(expected, Mapping)
            and expected
            and all(k in ("$eq", "$contains") for k in expected)
        ):
            for op, operand in expected.items():
                if op == "$eq" and actual != operand:
                    return False
                if op == "$contains":
                    items = operand if isinstance(operand, list) else [operand]
                    if not isinstance(actual, list) or any(i not in actual for i in items):
                        return False
        elif not _contains(actual, expected):
            return False
    return True


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and _contains(actual[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(_contains(a, e) for a in actual) for e in expected
        )
    return actual == expected and type(actual) is type(expected)
