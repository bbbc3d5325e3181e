"""A backend: the adapters that serve the ports, opened together at start-up
(server/backends.py chooses them) and handed to the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from graphdock.server.ports.bus import EventBus
from graphdock.server.ports.storage import QueueStorage


@dataclass
class Backend:
    kind: Literal["sqlite", "postgres"]
    storage: QueueStorage
    bus: EventBus
    checkpointer: BaseCheckpointSaver
    store: BaseStore
    single_process: bool
    """Embedded: this process is the only worker, so runs left `running` by a crash are its
    own to resume at start. Scale-out: a sweeper re-queues runs whose worker's lease ran out."""
