"""JSON responses: compact orjson bytes, `select` projection, pagination headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from graphdock.server import serde


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        serde.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


def no_content() -> Response:
    return Response(status_code=204)


def project(items: list[dict], select: list[str] | None) -> list[dict]:
    if not select:
        return items
    return [{k: item.get(k) for k in select} for item in items]


def paginated(
    items: list[dict], limit: int, offset: int, has_next: bool, select: list[str] | None = None
) -> Response:
    """The reference's pagination headers: Total is offset+limit+1 while there is a next page."""
    headers = {"X-Pagination-Total": str(offset + len(items) + (1 if has_next else 0))}
    if has_next:
        headers["X-Pagination-Next"] = str(offset + limit)
    return json_response(project(items, select), headers=headers)
