"""Client construction: `get_client` (async), `get_sync_client`, and the top-level clients."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx

from .._version import __version__
from ._transport import AsyncTransport, SyncTransport
from ._wire import RetryPolicy, Settings
from .resources import (
    AssistantsClient,
    CronClient,
    HttpClient,
    RunsClient,
    StoreClient,
    SyncAssistantsClient,
    SyncCronClient,
    SyncHttpClient,
    SyncRunsClient,
    SyncStoreClient,
    SyncThreadsClient,
    ThreadsClient,
)

NOT_PROVIDED: Any = type("NotProvided", (), {"__repr__": lambda self: "NOT_PROVIDED"})()
DEFAULT_URL = "http://localhost:8123"
DEFAULT_TIMEOUT = httpx.Timeout(connect=5, read=300, write=300, pool=5)
API_KEY_ENV_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
RESERVED_HEADERS = ("x-api-key",)


def _api_key(api_key: str | None) -> str | None:
    """The explicit key; or, when the argument is omitted, the first env var that is set."""
    if api_key is not NOT_PROVIDED:
        return api_key
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip().strip("\"'")
        if value:
            return value
    return None


def _headers(api_key: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    for name in headers or {}:
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"Cannot set reserved header '{name}'")
    result = {"User-Agent": f"graphdock-py/{__version__}", **(headers or {})}
    if key := _api_key(api_key):
        result["x-api-key"] = key
    return result


def _httpx_options(
    url: str | None, api_key: str | None, headers: Mapping[str, str] | None, timeout: Any
) -> dict[str, Any]:
    # Retries are ours (RetryPolicy), so httpx's own connect retries stay off.
    timeout = DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
    return {
        "base_url": url or DEFAULT_URL,
        "timeout": timeout,
        "headers": _headers(api_key, headers),
    }


class LangGraphClient:
    """Async client: methods return awaitables, streams are async iterators.

    Example:
        async with get_client(url="http://localhost:8123") as client:
            thread = await client.threads.create()
    """

    def __init__(self, client: httpx.AsyncClient, *, retry: RetryPolicy | None = None):
        transport = AsyncTransport(client, Settings(client.base_url, retry or RetryPolicy()))
        self._transport = transport
        self.http = HttpClient(transport)
        self.assistants = AssistantsClient(transport)
        self.threads = ThreadsClient(transport)
        self.runs = RunsClient(transport)
        self.crons = CronClient(transport)
        self.store = StoreClient(transport)

    async def aclose(self) -> None:
        """Close the connection pool.

        Example:
            await client.aclose()
        """
        await self._transport.client.aclose()

    async def __aenter__(self) -> LangGraphClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class SyncLangGraphClient:
    """Sync client: the same methods return their results directly, streams are iterators.

    Example:
        with get_sync_client(url="http://localhost:8123") as client:
            thread = client.threads.create()
    """

    def __init__(self, client: httpx.Client, *, retry: RetryPolicy | None = None):
        transport = SyncTransport(client, Settings(client.base_url, retry or RetryPolicy()))
        self._transport = transport
        self.http = SyncHttpClient(transport)
        self.assistants = SyncAssistantsClient(transport)
        self.threads = SyncThreadsClient(transport)
        self.runs = SyncRunsClient(transport)
        self.crons = SyncCronClient(transport)
        self.store = SyncStoreClient(transport)

    def close(self) -> None:
        """Close the connection pool.

        Example:
            client.close()
        """
        self._transport.client.close()

    def __enter__(self) -> SyncLangGraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get_client(
    *,
    url: str | None = None,
    api_key: str | None = NOT_PROVIDED,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    max_retries: int = 3,
) -> LangGraphClient:
    """Create an async client.

    `api_key` defaults to env LANGGRAPH_API_KEY, LANGSMITH_API_KEY or LANGCHAIN_API_KEY and is
    sent as `x-api-key` (pass `None` to send none). `timeout` is an httpx timeout (default:
    5 s connect, 300 s read). Transient failures are retried up to `max_retries` times.

    Example:
        client = get_client(url="http://localhost:8123")
        assistants = await client.assistants.search()
    """
    client = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(retries=0),
        **_httpx_options(url, api_key, headers, timeout),
    )
    return LangGraphClient(client, retry=RetryPolicy(max_retries=max_retries))


def get_sync_client(
    *,
    url: str | None = None,
    api_key: str | None = NOT_PROVIDED,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    max_retries: int = 3,
) -> SyncLangGraphClient:
    """Create a sync client (same options as `get_client`).

    Example:
        client = get_sync_client(url="http://localhost:8123")
        thread = client.threads.create()
    """
    client = httpx.Client(
        transport=httpx.HTTPTransport(retries=0), **_httpx_options(url, api_key, headers, timeout)
    )
    return SyncLangGraphClient(client, retry=RetryPolicy(max_retries=max_retries))
