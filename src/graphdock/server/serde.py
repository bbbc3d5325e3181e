"""JSON for whatever a graph puts in its state or streams: messages, pydantic models,
dataclasses, interrupts, exceptions. Anything else becomes its string form rather than
failing a run at the very end."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Set
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump") and callable(obj.model_dump):
        return obj.model_dump()
    if hasattr(obj, "dict") and callable(obj.dict) and not isinstance(obj, Mapping):
        try:
            return obj.dict()
        except Exception:
            pass
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (Set, tuple)):
        return list(obj)
    if isinstance(obj, (uuid.UUID, Decimal)):
        return str(obj)
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, (datetime, date, time)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if hasattr(obj, "to_json") and callable(obj.to_json):
        try:
            return obj.to_json()
        except Exception:
            pass
    return repr(obj)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=OPTIONS)


def to_jsonable(value: Any) -> Any:
    """The JSON-shaped form of a value (for storing graph state in JSON columns)."""
    return orjson.loads(dumps(value))


loads = orjson.loads
