"""/openapi.json: the API's own routes, a user's FastAPI `http.app` routes beside them, and
the security schemes `auth.openapi` declares (`securitySchemes`, a global `security`, and
per-path, per-method `paths` overrides), as the official server publishes them."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from graphdock.server.config import Config


def install_openapi(api: FastAPI, user_app: Any, config: Config) -> None:
    """Called after api/errors.py has shaped the API's own document."""
    security = config.auth.openapi if config.auth is not None else None
    generate = api.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        schema = generate()
        if isinstance(user_app, FastAPI):
            _merge(schema, copy.deepcopy(user_app.openapi()))
        if security:
            _secure(schema, security)
        done.append(schema)
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def _merge(schema: dict[str, Any], user: dict[str, Any]) -> None:
    """The user's paths beside ours (theirs win, as their routes do), and their schemas."""
    paths = schema.setdefault("paths", {})
    for path, operations in (user.get("paths") or {}).items():
        paths.setdefault(path, {}).update(operations)
    for kind, items in (user.get("components") or {}).items():
        schema.setdefault("components", {}).setdefault(kind, {}).update(items)


def _secure(schema: dict[str, Any], security: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(security.get("securitySchemes") or {})
    if security.get("security") is not None:
        schema["security"] = security["security"]
    for path, methods in (security.get("paths") or {}).items():
        operations = schema.get("paths", {}).get(path) or {}
        for method, requirement in methods.items():
            operation = operations.get(method.lower())
            if operation is not None:
                operation["security"] = requirement
