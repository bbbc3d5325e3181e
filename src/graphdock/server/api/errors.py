"""Every failure becomes a 4xx with `{"detail": "..."}` that says what was wrong."""

from __future__ import annotations

import importlib
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphdock.server.api.responses import json_response
from graphdock.server.ports.errors import Unavailable
from graphdock.server.services.errors import ServiceError

log = logging.getLogger("graphdock.api")

RETRY_AFTER = "2"  # seconds, on a 503: a database or Redis restart takes about that


class ApiError(StarletteHTTPException):
    """An HTTP error with its `detail`; an HTTPException, so that FastAPI passes it on
    untouched even when it is raised while the request body is read."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, detail, headers)
        self.status = status


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
        if error.get("type") == "json_invalid":  # loc carries the byte offset of the fault
            return "Invalid JSON in request body"
        if error.get("type") == "model_attributes_type" and tuple(error.get("loc", ())) in (
            ("body",),
            ("body", 0),
        ):
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


ERROR_SCHEMA = {
    "title": "ErrorResponse",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


def _document_errors(app: FastAPI) -> None:
    """/openapi.json tells the truth about errors: `{"detail": "<message>"}`, not FastAPI's
    list of validation errors (every 4xx here, 422 included, carries one message)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schemas = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = dict(ERROR_SCHEMA, title="HTTPValidationError")
            schemas.pop("ValidationError", None)
        return schema

    # FastAPI documents replacing `app.openapi` as the way to extend its schema, yet types it
    # as a method, which mypy refuses to assign to.
    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document_errors(app)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        return json_response({"detail": exc.detail}, exc.status)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable):
        # The database or the event bus is out of reach: a retry shortly may succeed.
        log.warning("%s %s: %s", request.method, request.url.path, exc.detail)
        return json_response({"detail": exc.detail}, 503, {"retry-after": RETRY_AFTER})

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return json_response({"detail": exc.detail}, exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return json_response({"detail": validation_detail(exc)}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return json_response({"detail": exc.detail}, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError):
        # a number from the request too large for a date, a timeout or a database integer
        return json_response({"detail": "A number in the request is out of range"}, 422)

    async def _data_error(request: Request, exc: Exception):
        return json_response({"detail": "A value in the request is out of range"}, 422)

    for module, name in (("sqlalchemy.exc", "DataError"), ("psycopg.errors", "DataError")):
        try:
            app.add_exception_handler(getattr(importlib.import_module(module), name), _data_error)
        except (ImportError, AttributeError):
            pass

    # No `exception_handler(Exception)`: Starlette re-raises after such a handler answers,
    # and the server then drops the connection. LastResort (the app's innermost middleware)
    # answers and keeps it.


class LastResort:
    """What no handler turned into a response: a database refusing a value becomes a 422;
    anything else a JSON 500 that names a request id and nothing of the failure (no SQL,
    no parameters, no stack: those go to the log, under the same id). The exception stops
    here, so the connection stays open for the client's next request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if _is_data_error(exc) and not started:
                response = json_response({"detail": "A value in the request is out of range"}, 422)
                await response(scope, receive, send)
                return
            request_id = Headers(scope=scope).get("x-request-id") or str(uuid.uuid4())
            log.exception(
                "unhandled error on %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if started:
                return  # a streamed body was cut short: nothing more can be said on it
            response = json_response(
                {
                    "detail": f"Internal error (request {request_id}): the server log has "
                    "the details under that id"
                },
                500,
                {"x-request-id": request_id},
            )
            await response(scope, receive, send)


def _is_data_error(exc: BaseException) -> bool:
    """The database refused a value (a number or interval out of range, say): the request's
    fault, told as a 422, whichever driver raised it (SQLAlchemy, psycopg, asyncpg)."""
    seen = 0
    current: BaseException | None = exc  # then the error under it, and so on down
    while current is not None and seen < 5:
        exc = current
        module = type(exc).__module__ or ""
        names = {c.__name__ for c in type(exc).__mro__}
        if "DataError" in names and module.split(".")[0] in ("sqlalchemy", "psycopg", "asyncpg"):
            return True
        current = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False
