"""What a request carries into the services: who is asking, and what they may see."""

from __future__ import annotations

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


ANONYMOUS = RequestContext()
"""The server's own work (sweeps, schedules): not a request, sees every record."""
