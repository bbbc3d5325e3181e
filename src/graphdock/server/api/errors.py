"""Every failure becomes a 4xx with `{"detail": "..."}` that says what was wrong."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphdock.server.api.responses import json_response
from graphdock.server.services.errors import ServiceError

log = logging.getLogger("graphdock.api")


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    # drop pydantic's union-branch labels such as 'str' or 'list[str]'
    parts = [
        p
        for p in parts
        if not (
            p.startswith(("list[", "dict[", "literal["))
            or p in ("str", "int", "float", "bool", "function-after[", "none")
        )
    ]
    return ".".join(parts) or "body"


def validation_detail(exc: RequestValidationError) -> str:
    errors = exc.errors()
    for error in errors:
        if error.get("type") in ("json_invalid", "model_attributes_type") and tuple(
            error.get("loc", ())
        ) in (("body",), ("body", 0)):
            return "Invalid JSON in request body"
    if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errors):
        return "Invalid JSON in request body"
    seen, parts = set(), []
    for error in errors:
        where = _location(tuple(error.get("loc", ())))
        if where in seen:
            continue
        seen.add(where)
        parts.append(f"{where}: {error.get('msg', 'invalid value')}")
    return "Invalid request: " + "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        return json_response({"detail": exc.detail}, exc.status)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return json_response({"detail": exc.detail}, exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return json_response({"detail": validation_detail(exc)}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return json_response({"detail": exc.detail}, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return json_response({"detail": f"Internal error: {type(exc).__name__}: {exc}"}, 500)
