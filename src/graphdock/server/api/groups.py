"""The API's route groups, and the `http.disable_<name>` flags that drop them.

Each group is a set of routers served together; a group is dropped (its paths answer 404)
when any of the flags that gate it is set in langgraph.json. A group added later (the v3
protocol, MCP, A2A, the web UI) is one more `RouteGroup` in `route_groups()`, with the flag
the official server names for it; nothing else needs to know it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RouteGroup:
    name: str
    routers: Callable[[], list[Any]]
    """Its APIRouters (imported when the app is assembled)."""
    disabled_by: tuple[str, ...] | None = None
    """The `http.disable_<flag>` flags that drop it; by default its own name. Crons also go
    with `disable_runs`, as on the official server; `health` goes with none."""

    def served(self, disabled: set[str]) -> bool:
        flags = (self.name,) if self.disabled_by is None else self.disabled_by
        return not (set(flags) & disabled)


def _health():
    from graphdock.server.api.routes import system

    return [system.health, system.root]


def _meta():
    from graphdock.server.api.routes import system

    return [system.fixed, system.router]


def _assistants():
    from graphdock.server.api.routes import assistants

    return [assistants.router]


def _threads():
    from graphdock.server.api.routes import threads

    return [threads.router]


def _runs():
    from graphdock.server.api.routes import runs

    return [runs.router, runs.stateless]


def _crons():
    from graphdock.server.api.routes import crons

    return [crons.router]


def _store():
    from graphdock.server.api.routes import store

    return [store.router]


def _thread_stream():
    from graphdock.server.api.routes import thread_stream

    return [thread_stream.router]


def _ui():
    from graphdock.server.api.routes import ui

    return [ui.router]


def _a2a():
    from graphdock.server.api import a2a

    return [a2a.router]


def route_groups() -> list[RouteGroup]:
    """Every group graphdock serves, in the order their routes are matched. `health` (/ok)
    has no flag: an operator can always tell the server is up."""
    return [
        RouteGroup("health", _health, disabled_by=()),
        RouteGroup("meta", _meta),
        RouteGroup("assistants", _assistants),
        RouteGroup("threads", _threads),
        RouteGroup("runs", _runs),
        RouteGroup("crons", _crons, disabled_by=("crons", "runs")),
        RouteGroup("store", _store),
        # the v3 thread protocol: threads' streams and commands, so it goes with threads
        RouteGroup("thread_stream", _thread_stream, disabled_by=("threads", "runs")),
        RouteGroup("ui", _ui),
        RouteGroup("a2a", _a2a),
        # MCP is a mounted app, not a router: app.py installs it unless `disable_mcp`
    ]


# Flags that switch off something other than a route group (honoured where it lives).
BEHAVIOUR_FLAGS = {"webhooks": "webhooks are not sent (services/runs.py)"}
