"""The cancel handlers this process registered, per run: every EventBus needs the same
local bookkeeping, whatever carries a cancel signal between processes."""

from __future__ import annotations

from collections.abc import Callable

from graphdock.server.ports.bus import CancelHandler


class CancelHandlers:
    def __init__(self) -> None:
        self._by_run: dict[str, list[CancelHandler]] = {}

    def add(self, run_id: str, handler: CancelHandler) -> Callable[[], None]:
        """Register `handler`; call what this returns to remove it again."""
        self._by_run.setdefault(run_id, []).append(handler)

        def remove() -> None:
            handlers = self._by_run.get(run_id, [])
            if handler in handlers:
                handlers.remove(handler)
            if not handlers:
                self._by_run.pop(run_id, None)

        return remove

    def run_ids(self) -> list[str]:
        """The runs with a handler here (the runs this process executes)."""
        return list(self._by_run)

    def of(self, run_id: str) -> list[CancelHandler]:
        """A copy: handlers may remove themselves while they are being called."""
        return list(self._by_run.get(run_id, ()))
