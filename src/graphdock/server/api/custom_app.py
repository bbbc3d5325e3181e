"""The user's own Starlette or FastAPI app (`http.app`), served beside the API.

What the official server does with it, graphdock does:

* its routes are matched before the API's, so a user route with the same path and method
  as a built-in one wins (the health and docs routes excepted: /ok, /metrics, /docs);
* its middleware wraps the API too: outside graphdock's authentication by default
  (`middleware_first`), or inside it (`auth_first`: the middleware sees `request.user`,
  and a refused request never reaches it);
* its lifespan runs around the server's, so a resource it opens is there before the first
  run and still there while the last one drains;
* its routes are public unless `enable_custom_route_auth` puts them behind the same
  admission as the API's (API keys, the custom `authenticate`): either way each route is
  declared, as every route must be (api/routing.py);
* its app state is the server's app state, and its exception handlers apply to the
  exceptions graphdock leaves unhandled (the API's own error shapes are the wire contract).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match

from graphdock.server import loader
from graphdock.server.api.access import Access
from graphdock.server.api.routing import DECLARED, AdmittedApp
from graphdock.server.config import Config, ConfigError


def _unshadowable() -> tuple[Any, ...]:
    """The built-in routers a user route never shadows (/ok, /metrics, /docs), as on the
    official server."""
    from graphdock.server.api.routes import system

    return (system.health, system.fixed)


def load_user_app(config: Config) -> Starlette:
    """The app `http.app` names, or a ConfigError naming the key and why not."""
    ref = config.http.app
    assert ref is not None
    loader.add_import_paths(config.dependencies, config.base_dir)
    try:
        app = loader.load(ref, config.base_dir)
    except loader.LoadError as exc:
        raise ConfigError(config.path, "http.app", str(exc)) from exc
    if not isinstance(app, Starlette):
        raise ConfigError(
            config.path,
            "http.app",
            f"{ref} is a {type(app).__name__}, not a Starlette or FastAPI application",
        )
    return app


class UserRoute(BaseRoute):
    """A route of the user's app, matched where the API's are, admitted as declared.

    It wraps any kind of route (a Route, a Mount, an included router) without changing it:
    matching is the route's own, handling goes through `AdmittedApp`, and the match leaves
    the declaration in the scope for `auth_first` admission (api/routing.py)."""

    def __init__(self, route: BaseRoute, access: Access):
        self.route = route
        self.access = access
        self.app = AdmittedApp(route.handle, access)

    def matches(self, scope: Any) -> tuple[Match, Any]:
        match, child = self.route.matches(scope)
        if match is not Match.NONE:
            child = {**child, DECLARED: self.access}
        return match, child

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self.route.url_path_for(name, **path_params)

    def declared_routes(self) -> Iterator[tuple[str, Access]]:
        """What the route walk sees: every route inside, declared as this wrapper is."""
        from fastapi.routing import iter_route_contexts

        for inner in iter_route_contexts([self.route]):
            methods = ",".join(sorted(inner.methods or ())) or "*"
            yield f"{methods} {inner.path}", self.access


def _generated(user: Starlette, route: BaseRoute) -> bool:
    """FastAPI's own docs routes of the user's app (/openapi.json, /docs, /redoc): the
    server's documents describe both apps (api/openapi.py)."""
    names = ("openapi_url", "docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")
    generated = {getattr(user, name, None) for name in names} - {None}
    return getattr(route, "path", None) in generated


def merge_user_app(api: Any, user: Starlette, config: Config) -> None:
    """Put the user's routes, middleware, state and exception handlers into the API app
    (its lifespan is composed by app.py, around the server's own)."""
    from starlette.middleware import Middleware

    from graphdock.server.api.routing import AdmitFirst

    http = config.http
    access = Access() if http.enable_custom_route_auth else Access(public=True)
    ours = list(api.router.routes)
    fixed = _unshadowable()
    first = [r for r in ours if getattr(r, "original_router", None) in fixed]
    rest = [r for r in ours if r not in first]
    theirs = [UserRoute(r, access) for r in user.router.routes if not _generated(user, r)]
    api.router.routes = [*first, *theirs, *rest]

    user_middleware = list(user.user_middleware)
    if http.middleware_order == "auth_first":
        api.user_middleware = [*api.user_middleware, Middleware(AdmitFirst), *user_middleware]
    else:
        api.user_middleware = [*user_middleware, *api.user_middleware]

    for key, handler in user.exception_handlers.items():
        api.exception_handlers.setdefault(key, handler)

    for name, value in api.state._state.items():  # one state for both apps
        setattr(user.state, name, value)
    api.state = user.state
