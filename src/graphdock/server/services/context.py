"""What a request carries into the services: who is asking, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestContext:
    user: dict[str, Any] | None = None  # identity, permissions, display_name, ...
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # forwarded to run config
    access: dict[str, dict | None] = field(default_factory=dict)  # resource -> metadata filter

    def filter_for(self, resource: str) -> dict | None:
        return self.access.get(resource)

    def stamp_for(self, resource: str) -> dict:
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
