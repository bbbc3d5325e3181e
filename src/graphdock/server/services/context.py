"""What a request carries into the services: who is asking, and what they may see."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphdock.server.services.errors import Forbidden

Filter = dict[str, Any]


class AccessNotAuthorized(Forbidden):
    """A service reached a resource the request's route never authorized: refused, so that
    a route that forgets its auth handler shows nothing rather than everything."""

    def __init__(self, resource: str):
        super().__init__(f"This request is not authorized to use {resource}")
        self.resource = resource


class AuthUser:
    """The authenticated user as `@auth.on` handlers see it (`langgraph_sdk`'s BaseUser):
    identity, is_authenticated, display_name, permissions, and any extra field the
    authenticate handler returned, by key or by attribute."""

    __slots__ = ("_data", "_raw")

    def __init__(self, data: dict[str, Any], raw: Any = None):
        self._data = data
        self._raw = raw

    @property
    def identity(self) -> str:
        return self._data["identity"]

    @property
    def is_authenticated(self) -> bool:
        return bool(self._data.get("is_authenticated", True))

    @property
    def display_name(self) -> str:
        return self._data.get("display_name") or self.identity

    @property
    def permissions(self) -> list[str]:
        return list(self._data.get("permissions") or [])

    def dict(self) -> dict[str, Any]:
        return dict(self._data)

    def model_dump(self, **_: Any) -> builtins.dict[str, Any]:  # `dict` is the method above
        return dict(self._data)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        data = object.__getattribute__(self, "_data")
        if name in data:
            return data[name]
        raw = object.__getattribute__(self, "_raw")
        if raw is not None and not isinstance(raw, (str, Mapping)):
            return getattr(raw, name)
        raise AttributeError(name)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    def __repr__(self) -> str:
        return f"AuthUser(identity={self.identity!r})"


@dataclass
class RequestContext:
    user: dict[str, Any] | None = None
    """The authenticated user (identity, permissions, display_name, ...), if any."""
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers forwarded into a run's config (`http.configurable_headers`)."""
    access: dict[str, Filter | None] = field(default_factory=dict)
    """Resource -> the metadata filter its auth handler returned (None: no restriction)."""
    enforced: bool = False
    """Custom auth is on: a resource must have been authorized before it is used."""

    def allow(self, resource: str, flt: Filter | None) -> None:
        """Record an auth handler's answer for `resource` (several answers: all apply)."""
        earlier = self.access.get(resource)
        self.access[resource] = {**earlier, **flt} if earlier and flt else flt or earlier

    def filter_for(self, resource: str) -> Filter | None:
        if resource in self.access:
            return self.access[resource]
        if self.enforced:
            raise AccessNotAuthorized(resource)
        return None

    def stamp_for(self, resource: str) -> dict[str, Any]:
        """The metadata a record made for this caller needs to pass its own filter
        (`{"owner": {"$eq": "a"}}` gives `{"owner": "a"}`; `$contains` gives a list)."""
        out: dict[str, Any] = {}
        for key, expected in (self.filter_for(resource) or {}).items():
            if isinstance(expected, dict) and "$eq" in expected:
                out[key] = expected["$eq"]
            elif isinstance(expected, dict) and "$contains" in expected:
                items = expected["$contains"]
                out[key] = items if isinstance(items, list) else [items]
            else:
                out[key] = expected
        return out

    @property
    def identity(self) -> str:
        return (self.user or {}).get("identity", "") or ""

    def auth_user(self) -> AuthUser | None:
        """The user as auth handlers and graph factories see it (`langgraph_sdk`'s BaseUser)."""
        return AuthUser(self.user) if self.user else None


ANONYMOUS = RequestContext()
"""The server's own work (sweeps, schedules): not a request, sees every record."""
