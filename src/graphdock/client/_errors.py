"""Typed errors. Names match the official client so `except NotFoundError` keeps working.

Status errors are also `httpx.HTTPStatusError`; connection errors are also
`httpx.TransportError`, so code written against plain httpx still catches them.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "LangGraphError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunError",
    "UnprocessableEntityError",
]


class LangGraphError(Exception):
    """Root of every error this client raises on purpose."""


class APIError(LangGraphError):
    """An error talking to the API: `message`, the failed `request`, and the decoded `body`."""

    message: str
    body: Any
    code: str | None
    param: str | None
    type: str | None

    def __init__(self, message: str, request: httpx.Request | None = None, *, body: Any = None):
        Exception.__init__(self, message)
        self.message = message
        self._request = request
        self.body = body
        fields = body if isinstance(body, dict) else {}
        self.code, self.param, self.type = (
            v if isinstance(v := fields.get(k), str) else None for k in ("code", "param", "type")
        )

    @property
    def request(self) -> httpx.Request:  # same contract as httpx.HTTPError.request
        if self._request is None:
            raise RuntimeError("The request instance has not been set on this exception.")
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value

    def __str__(self) -> str:
        return self.message


class APIStatusError(APIError, httpx.HTTPStatusError):
    """The server answered with a 4xx/5xx status.

    `status_code`, `detail` (the server's explanation, usually `{"detail": ...}`),
    `request_id` (the `x-request-id` header) and the raw `response` are kept.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: Any = None):
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")
        self.detail = body.get("detail") if isinstance(body, dict) else body


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429."""


class InternalServerError(APIStatusError):
    """Any HTTP 5xx."""


class APIResponseValidationError(APIError):
    """A 2xx response whose body is not what the API promises."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any = None):
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIConnectionError(APIError, httpx.TransportError):
    """The server could not be reached, or the connection broke (after retries)."""


class APITimeoutError(APIConnectionError, httpx.TimeoutException):
    """The request timed out (after retries)."""


class RunError(LangGraphError):
    """The graph run itself failed: `error` is the exception type, `message` its text.

    Raised by `runs.wait`/`runs.join` when the server answers `{"__error__": {...}}`.
    `str(err)` is `"<error>: <message>"`, the text the official client puts in its plain Exception.
    """

    def __init__(self, error: str | None, message: str | None, body: Any = None):
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message
        self.body = body


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _decode_error_body(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return content.decode(errors="replace")


def _message_from(body: Any) -> str | None:
    if isinstance(body, str) and body.strip():
        return body.strip()
    if not isinstance(body, dict):
        return None
    for key in ("message", "detail", "error"):
        if isinstance(value := body.get(key), str) and value:
            return value
    nested = body.get("error")
    if isinstance(nested, dict):
        for key in ("message", "detail"):
            if isinstance(value := nested.get(key), str) and value:
                return value
    return None


def status_error(response: httpx.Response) -> APIStatusError:
    """Build the typed error for a >= 400 response whose body has been read."""
    body = _decode_error_body(response.content)
    code = response.status_code
    cls = _STATUS_CLASSES.get(code) or (InternalServerError if code >= 500 else APIStatusError)
    message = _message_from(body) or f"{code} {response.reason_phrase}"
    return cls(message, response=response, body=body)


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """Wrap an httpx transport failure in our clearer type, keeping the request."""
    request = getattr(exc, "_request", None)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {exc!r}", request)
    return APIConnectionError(f"Connection error: {exc!r}", request)
