"""graphdock: an open, self-hosted LangGraph API server and its Python SDK."""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client import get_client, get_sync_client

__all__ = ["__version__", "get_client", "get_sync_client"]


def __getattr__(name: str) -> Any:
    # The client is imported on first use, so `import graphdock` (e.g. by the server) stays light.
    if name in ("get_client", "get_sync_client"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'graphdock' has no attribute {name!r}")
