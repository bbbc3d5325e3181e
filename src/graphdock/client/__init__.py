"""graphdock's Python SDK: one client for the LangGraph API, async (`get_client`) or sync
(`get_sync_client`), compatible with the official `langgraph_sdk` client.

Example:
    from graphdock.client import get_client

    client = get_client(url="http://localhost:8123")
    thread = await client.threads.create()
    async for part in client.runs.stream(thread["thread_id"], "agent", input={"messages": []}):
        print(part.event, part.data)
"""

from ._client import LangGraphClient, SyncLangGraphClient, get_client, get_sync_client
from ._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    LangGraphError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RunError,
    UnprocessableEntityError,
)
from ._transport import AsyncStream
from ._types import StreamPart, StreamPartV2
from ._wire import RetryPolicy
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

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AssistantsClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CronClient",
    "HttpClient",
    "InternalServerError",
    "LangGraphClient",
    "LangGraphError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "RunError",
    "RunsClient",
    "StoreClient",
    "StreamPart",
    "StreamPartV2",
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncLangGraphClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncThreadsClient",
    "ThreadsClient",
    "UnprocessableEntityError",
    "get_client",
    "get_sync_client",
]
