"""One class per API area; each serves both the async and the sync client."""

from .assistants import AssistantsClient
from .crons import CronClient
from .http import HttpClient
from .runs import RunsClient
from .store import StoreClient
from .threads import ThreadsClient

__all__ = [
    "AssistantsClient",
    "CronClient",
    "HttpClient",
    "RunsClient",
    "StoreClient",
    "ThreadsClient",
]
