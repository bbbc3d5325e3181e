"""The long-term store as the API serves it: a thin facade over langgraph's BaseStore.

The store object itself is the one graphs get from `get_store()`, so what a node writes
the API reads and the other way round. This facade adds what the HTTP surface needs on
top: namespace checks that answer 4xx instead of failing deep in the store, filters that
never crash on items lacking a field, the reference's item shapes, and semantic search
that still lists items without embeddings (after the ranked ones, with `score: null`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from langgraph.store.base import InvalidNamespaceError

from graphdock.server.services.errors import BadRequest, Invalid

OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte"})
FILTER_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")  # what the SQL stores accept


def _time(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def item_shape(item: Any, *, scored: bool = False) -> dict:
    out = {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": _time(item.created_at),
        "updated_at": _time(item.updated_at),
    }
    if scored:
        out["score"] = getattr(item, "score", None)
    return out


def check_labels(namespace: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Labels are joined with '.' on the wire and in storage, so none may hold one."""
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise Invalid(f"Namespace label '{label}' must be a non-empty string without periods")
        if "\x00" in label:
            raise Invalid(f"Namespace label {label!r} must not contain NUL characters")
    return tuple(namespace)


def check_namespace(namespace: list[str]) -> tuple[str, ...]:
    if not namespace:
        raise BadRequest("Namespace cannot be empty.")
    labels = check_labels(namespace)
    if labels[0] == "langgraph":
        raise Invalid('Namespace root label "langgraph" is reserved')
    return labels


def normalize_filter(raw: dict | None, path: str = "", *, paths: bool = True) -> dict[str, Any]:
    """Equality and $-operator conditions keyed by field.

    With `paths` (a store that reads dotted keys as paths into the value, as the SQLite one
    does), a nested object without operators means equality on its fields
    (`{"a": {"b": 1}}` is `{"a.b": 1}`), as the reference's in-memory store reads it.
    Without, it means equality with the whole object.
    """
    out: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        if not isinstance(key, str) or not FILTER_KEY.match(key):
            raise Invalid(
                f"Invalid filter key '{path}{key}': use letters, digits, '_', '-' and '.' "
                "(a dotted key reaches a nested field)"
            )
        field = f"{path}{key}"
        if isinstance(value, dict) and value and any(k.startswith("$") for k in value):
            unknown = [k for k in value if k not in OPERATORS]
            if unknown:
                raise Invalid(
                    f"Invalid filter operator '{unknown[0]}' on '{field}'. "
                    f"Use one of: {', '.join(sorted(OPERATORS))}"
                )
            out[field] = dict(value)
        elif isinstance(value, dict) and value and paths:
            out.update(normalize_filter(value, f"{field}.", paths=True))
        elif isinstance(value, dict) and value:
            out[field] = {"$eq": value}
        else:
            out[field] = value
    return out


def _identity(item: Any) -> tuple:
    return (tuple(item.namespace), item.key)


class StoreService:
    def __init__(self, store: Any):
        self.store = store

    @property
    def semantic(self) -> bool:
        return bool(getattr(self.store, "index_config", None))

    @property
    def filter_paths(self) -> bool:
        """Whether the store reads a dotted filter key as a path (adapters declare it)."""
        return bool(getattr(self.store, "filter_paths", False))

    async def _search(self, prefix: tuple[str, ...], **kwargs: Any) -> list:
        try:
            return await self.store.asearch(prefix, **kwargs)
        except InvalidNamespaceError as exc:
            raise Invalid(str(exc)) from None
        except ValueError as exc:  # the store's own filter checks ("Unsupported operator ...")
            raise Invalid(f"Invalid search: {exc}") from None

    async def put(self, body: dict) -> None:
        namespace = check_namespace(body["namespace"])
        if "\x00" in body["key"]:
            raise Invalid("key must not contain NUL characters (\\u0000)")
        kwargs: dict[str, Any] = {}
        if body.get("index") is not None:
            kwargs["index"] = body["index"]
        if body.get("ttl") is not None:
            kwargs["ttl"] = body["ttl"]
        try:
            await self.store.aput(namespace, body["key"], body["value"], **kwargs)
        except InvalidNamespaceError as exc:
            raise Invalid(str(exc)) from None

    async def get(self, namespace: list[str], key: str, refresh_ttl: bool | None) -> dict | None:
        item = await self.store.aget(check_labels(namespace), key, refresh_ttl=refresh_ttl)
        return item_shape(item) if item is not None else None

    async def delete(self, namespace: list[str], key: str) -> None:
        await self.store.adelete(check_labels(namespace), key)

    async def search(self, body: dict) -> dict:
        prefix = check_labels(body.get("namespace_prefix") or [])
        limit, offset = body.get("limit", 10), body.get("offset", 0)
        flt = normalize_filter(body.get("filter"), paths=self.filter_paths)
        common = {"filter": flt or None, "refresh_ttl": body.get("refresh_ttl")}
        query = body.get("query")
        if not query or not self.semantic:
            items = await self._search(prefix, limit=limit, offset=offset, **common)
            return {"items": [item_shape(i, scored=True) for i in items]}
        # Ranked items first; then, once they run out, the items that have no embedding
        # (index=False, or no text at the indexed fields), unranked. Both windows start at 0
        # because the store applies its offset after cutting the ranked candidates.
        window = offset + limit
        items = await self._search(prefix, query=query, limit=window, offset=0, **common)
        if len(items) < window:
            ranked = {_identity(i) for i in items}
            rest = await self._search(prefix, limit=window + len(items), offset=0, **common)
            for item in rest:
                if _identity(item) not in ranked:
                    item.score = None
                    items.append(item)
        return {"items": [item_shape(i, scored=True) for i in items[offset:window]]}

    async def list_namespaces(self, body: dict) -> dict:
        prefix, suffix = body.get("prefix"), body.get("suffix")
        namespaces = await self.store.alist_namespaces(
            prefix=check_labels(prefix) if prefix else None,
            suffix=check_labels(suffix) if suffix else None,
            max_depth=body.get("max_depth"),
            limit=body.get("limit", 100),
            offset=body.get("offset", 0),
        )
        return {"namespaces": [list(ns) for ns in namespaces]}
