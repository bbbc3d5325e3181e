"""One module per API area. Each defines its endpoints once (`*Endpoints`), and two thin
classes put them on the async client (`ThreadsClient`) and the sync one (`SyncThreadsClient`)."""

from .assistants import AssistantsClient, SyncAssistantsClient
from .crons import CronClient, SyncCronClient
from .http import HttpClient, SyncHttpClient
from .runs import RunsClient, SyncRunsClient
from .store import StoreClient, SyncStoreClient
from .threads import SyncThreadsClient, ThreadsClient

__all__ = [
    "AssistantsClient",
    "CronClient",
    "HttpClient",
    "RunsClient",
    "StoreClient",
    "SyncAssistantsClient",
    "SyncCronClient",
    "SyncHttpClient",
    "SyncRunsClient",
    "SyncStoreClient",
    "SyncThreadsClient",
    "ThreadsClient",
]
