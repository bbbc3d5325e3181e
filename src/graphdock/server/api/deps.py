"""What every route needs: the services, and checked path ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from graphdock.server.api.errors import ApiError
from graphdock.server.services.ids import canonical_uuid

if TYPE_CHECKING:
    from graphdock.server.container import Services


def services(request: Request) -> Services:
    return request.app.state.services


def uuid_id(value: str, kind: str, message: str | None = None) -> str:
    """A path id must be a UUID; anything else is a 422 that says which id was wrong."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise ApiError(422, message or f"Invalid {kind} ID: must be a UUID")
    return canonical
