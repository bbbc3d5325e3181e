"""Code mypy must refuse, each refused line marked `# E: <error code>`, and code it must accept.

`test_typing.py` runs `mypy --strict` on this file and compares the errors with the marks, both
ways: a mark mypy does not report means the typing check could not catch that misuse; an error
on an unmarked line means correct code does not type-check. The functions are never run,
except `open_sessions`, the example of adding an endpoint that gives a context manager.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass

from graphdock.client import LangGraphClient, SyncLangGraphClient
from graphdock.client._endpoints import AsyncResource, Description, SyncResource, endpoint
from graphdock.client._transport import AsyncTransport, SyncTransport
from graphdock.client.schema import Assistant, StreamPart, Thread


async def async_client_misuse(client: LangGraphClient) -> None:
    thread: Thread = await client.threads.create()
    name: str = await client.threads.create()  # E: assignment
    pending: Thread = client.threads.get(thread["thread_id"])  # E: assignment
    await client.threads.create(no_such_option=1)  # E: call-arg
    await client.threads.get()  # E: call-arg
    for _ in client.runs.stream(None, "agent"):  # E: attr-defined
        pass
    async for v1 in client.runs.stream(None, "agent"):
        event: str = v1.event
    async for v2 in client.runs.stream(None, "agent", version="v2"):
        v2.event  # E: attr-defined
    found: list[Thread] = await client.assistants.search()  # E: assignment
    a: list[Assistant] = await client.assistants.search(response_format="object")  # E: assignment


def sync_client_misuse(client: SyncLangGraphClient) -> None:
    thread: Thread = client.threads.create()
    state_id: int = client.threads.create()["thread_id"]  # E: assignment
    first: StreamPart = next(client.runs.stream(thread["thread_id"], "agent"))
    nothing: Thread = client.threads.update("t", return_minimal=True)  # E: assignment


async def sync_client_awaited(client: SyncLangGraphClient) -> None:
    await client.threads.create()  # E: misc


# Adding an endpoint whose call is a session: `async with` on the async client, `with` on the
# sync one. The description says what each client gets; the endpoint is defined once.


@dataclass(frozen=True)
class Session(Description[AbstractAsyncContextManager[str], AbstractContextManager[str]]):
    name: str

    def run_async(self, transport: AsyncTransport) -> AbstractAsyncContextManager[str]:
        return nullcontext(f"async {self.name}")

    def run_sync(self, transport: SyncTransport) -> AbstractContextManager[str]:
        return nullcontext(f"sync {self.name}")


class SessionEndpoints:
    @endpoint
    def open(self, name: str) -> Session:
        """Open a session called `name`."""
        return Session(name)


class Sessions(SessionEndpoints, AsyncResource):
    pass


class SyncSessions(SessionEndpoints, SyncResource):
    pass


async def open_sessions(sessions: Sessions, sync_sessions: SyncSessions) -> list[str]:
    async with sessions.open("a") as first:
        pass
    with sync_sessions.open("b") as second:
        pass
    return [first, second]


async def sessions_misuse(sessions: Sessions, sync_sessions: SyncSessions) -> None:
    with sessions.open("a"):  # E: attr-defined
        pass
    async with sync_sessions.open("b"):  # E: attr-defined
        pass
    sessions.open(1)  # E: arg-type
