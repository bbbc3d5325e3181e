"""Everything the server runs on, opened once (app.py `open_services`) and reached by
the API through `request.app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from graphdock.server.config import Config
from graphdock.server.ports.bus import EventBus
from graphdock.server.ports.storage import QueueStorage
from graphdock.server.services.assistants import AssistantService
from graphdock.server.services.crons import CronService
from graphdock.server.services.graphs import GraphRegistry
from graphdock.server.services.runs import RunService
from graphdock.server.services.scheduler import CronScheduler
from graphdock.server.services.store import StoreService
from graphdock.server.services.sweeper import TtlSweeper
from graphdock.server.services.thread_stream import ThreadStreamService
from graphdock.server.services.threads import ThreadService
from graphdock.server.services.webhooks import WebhookSender
from graphdock.server.settings import Settings

if TYPE_CHECKING:
    from graphdock.server.executor.worker import WorkerPool


@dataclass
class Services:
    settings: Settings
    config: Config
    graphs: GraphRegistry
    storage: QueueStorage
    bus: EventBus
    checkpointer: BaseCheckpointSaver
    store: BaseStore
    assistants: AssistantService
    threads: ThreadService
    runs: RunService
    webhooks: WebhookSender
    thread_stream: ThreadStreamService
    crons: CronService
    store_service: StoreService  # the API's view of `store`
    pool: WorkerPool | None = None  # None: this process runs no graphs (--no-jobs)
    scheduler: CronScheduler | None = None
    sweeper: TtlSweeper | None = None
