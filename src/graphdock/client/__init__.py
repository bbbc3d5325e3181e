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
from ._protocol import InterruptPayload, ProtocolError, RunFailedError, StreamedMessage
from ._thread_stream import (
    AsyncMessageStream,
    AsyncSubgraphHandle,
    AsyncThreadStream,
    AsyncToolCall,
    MessageStream,
    SubgraphHandle,
    SyncThreadStream,
    ToolCall,
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
    "AsyncMessageStream",
    "AsyncStream",
    "AsyncSubgraphHandle",
    "AsyncThreadStream",
    "AsyncToolCall",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "CronClient",
    "HttpClient",
    "InternalServerError",
    "InterruptPayload",
    "LangGraphClient",
    "LangGraphError",
    "MessageStream",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "RetryPolicy",
    "RunError",
    "RunFailedError",
    "RunsClient",
    "StoreClient",
    "StreamPart",
    "StreamPartV2",
    "StreamedMessage",
    "SubgraphHandle",
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncLangGraphClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncThreadStream",
    "SyncThreadsClient",
    "ThreadsClient",
    "ToolCall",
    "UnprocessableEntityError",
    "get_client",
    "get_sync_client",
]
