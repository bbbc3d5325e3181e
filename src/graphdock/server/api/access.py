"""What each route lets its caller do, declared where the route is defined.

A route is either public (reachable without credentials: health, docs, the UI's assets),
or it needs an authenticated caller and names the auth-handler permits it may use, as
`resource.action` pairs (`threads.create_run`, `assistants.read`). The route's endpoint
builds the handler's value from its parsed request and calls `Caller.authorize` with one of
its permits; the handler may change the value, and the filter it returns is what storage
applies for that resource for the rest of the request.

A route that declares nothing is refused (api/routing.py), so a route added without a
thought for authorization shows nobody anything. The names are the official server's, so
an `auth.py` written for it works unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard, TypeVar

# A permit's parts, as langgraph_sdk's AuthContext names them.
Resource = Literal["assistants", "threads", "crons", "store"]
Action = Literal[
    "create", "read", "update", "delete", "search", "create_run", "put", "get", "list_namespaces"
]

# The (resource, action) pairs `langgraph_sdk.Auth` handlers can be registered for.
ACTIONS: dict[Resource, frozenset[Action]] = {
    "assistants": frozenset({"create", "read", "update", "delete", "search"}),
    "threads": frozenset({"create", "read", "update", "delete", "search", "create_run"}),
    "crons": frozenset({"create", "read", "update", "delete", "search"}),
    "store": frozenset({"put", "get", "search", "list_namespaces", "delete"}),
}


def _is_resource(name: str) -> TypeGuard[Resource]:
    return name in ACTIONS


def _is_action(name: str, resource: Resource) -> TypeGuard[Action]:
    return name in ACTIONS[resource]


def permit_parts(permit: str) -> tuple[Resource, Action]:
    """A permit's resource and action (`threads.create_run`), or a ValueError naming it."""
    resource, _, action = permit.partition(".")
    if not _is_resource(resource) or not _is_action(action, resource):
        raise ValueError(f"unknown permit {permit!r}: expected resource.action, one of {ACTIONS}")
    return resource, action


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_ATTRIBUTE = "__graphdock_access__"


@dataclass(frozen=True)
class Access:
    """A route's declaration.

    `public`: no credentials needed. Otherwise the caller is authenticated (API key, custom
    `authenticate`) and rate limited before the endpoint runs, and `permits` are the auth
    handlers it may run; none means the route touches no resource a handler guards.
    """

    public: bool = False
    permits: frozenset[str] = frozenset()

    def describe(self) -> str:
        if self.public:
            return "public"
        return ", ".join(sorted(self.permits)) or "authenticated"


def _declare(endpoint: Endpoint, access: Access) -> Endpoint:
    if getattr(endpoint, _ATTRIBUTE, None) is not None:
        raise TypeError(f"{endpoint.__qualname__} declares its access twice")
    setattr(endpoint, _ATTRIBUTE, access)
    return endpoint


def requires(*permits: str) -> Callable[[Endpoint], Endpoint]:
    """The route needs an authenticated caller and may run these auth handlers."""
    for permit in permits:
        permit_parts(permit)

    def declare(endpoint: Endpoint) -> Endpoint:
        return _declare(endpoint, Access(permits=frozenset(permits)))

    return declare


def authenticated(endpoint: Endpoint) -> Endpoint:
    """The route needs an authenticated caller and guards no resource of its own."""
    return _declare(endpoint, Access())


def public(endpoint: Endpoint) -> Endpoint:
    """The route is reachable without credentials."""
    return _declare(endpoint, Access(public=True))


def access_of(endpoint: Any) -> Access | None:
    """The endpoint's declaration, or None when it declares nothing."""
    return getattr(endpoint, _ATTRIBUTE, None)


def declared_access(endpoint: Any) -> Access:
    """The declaration of an endpoint that makes one (a TypeError for one that does not)."""
    access = access_of(endpoint)
    if access is None:
        raise TypeError(f"{endpoint.__qualname__} declares no access")
    return access
