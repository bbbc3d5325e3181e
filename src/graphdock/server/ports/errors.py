"""Errors the adapters raise through the ports, typed so that no layer above needs to know a
driver: a service that cannot be reached right now, and a write refused by fencing."""

from __future__ import annotations


class Unavailable(Exception):
    """A service graphdock depends on cannot be reached right now (stopped, restarting,
    unreachable). Nothing was done that the caller must undo; the same request may succeed
    if it is tried again shortly. The API answers 503 with `detail`."""

    service = "a service graphdock depends on"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def detail(self) -> str:
        return f"The {self.service} is unavailable: {self.reason}; retry shortly"


class StorageUnavailable(Unavailable):
    service = "database"


class EventBusUnavailable(Unavailable):
    service = "event bus (Redis)"


class StaleAttempt(Exception):
    """A write of an execution attempt that no longer holds its run (its lease ran out and the
    run was re-queued, or another worker is running it now): refused, nothing was written."""

    def __init__(self, run_id: str, attempt: int, why: str = "another attempt has the run"):
        super().__init__(f"attempt {attempt} of run {run_id} no longer holds it: {why}")
        self.run_id, self.attempt = run_id, attempt
