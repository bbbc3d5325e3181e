"""Every public method of both clients, each result bound to an annotated variable.

mypy checks this file strictly (`make lint`): if a method's declared result is wrong, or if the
sync client hands back an awaitable, the binding fails the check. `test_typed_usage.py` also
runs it against a real graphdock server, checking every answer against the type its endpoint
declares, so the annotations are proven on real data too.

Seed-reference names and official `langgraph_sdk` names are both called. `threads.stream`
(the v3 protocol session) has functions of its own (`use_async_thread_stream`, ...): the
reference server answers it only with the protocol turned on.
"""

# Binding a `None` result (`none: None = await client.threads.delete(tid)`) is the point here.
# mypy: disable-error-code="func-returns-value"

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphdock.client import (
    AsyncMessageStream,
    AsyncSubgraphHandle,
    AsyncThreadStream,
    AsyncToolCall,
    InterruptPayload,
    MessageStream,
    StreamedMessage,
    SubgraphHandle,
    SyncThreadStream,
    ToolCall,
    get_client,
    get_sync_client,
)
from graphdock.client.schema import (
    Assistant,
    AssistantsSearchResponse,
    AssistantVersion,
    Cron,
    GraphSchema,
    Item,
    ListNamespaceResponse,
    Run,
    SearchItem,
    SearchItemsResponse,
    StreamPart,
    StreamPartV2,
    Subgraphs,
    Thread,
    ThreadState,
    ThreadUpdateStateResponse,
)

HI = {"messages": [{"role": "user", "content": "hi"}]}
NEVER = "0 0 1 1 *"  # a cron schedule that does not fire during a test


async def use_async_client(url: str) -> None:
    tag = uuid.uuid4().hex
    async with get_client(url=url, api_key=None) as client:
        # assistants
        assistant: Assistant = await client.assistants.create(
            "agent", {"configurable": {"x": 1}}, metadata={"tag": tag}, name="typed"
        )
        aid = assistant["assistant_id"]
        assistant = await client.assistants.get(aid)
        assistant = await client.assistants.update(aid, name="typed-2")
        graph: dict[str, list[dict[str, Any]]] = await client.assistants.get_graph(aid, xray=1)
        schemas: GraphSchema = await client.assistants.get_schemas(aid)
        subgraphs: Subgraphs = await client.assistants.get_subgraphs(aid, recurse=True)
        versions: list[AssistantVersion] = await client.assistants.get_versions(aid)
        assistant = await client.assistants.set_latest(aid, 1)
        assistants: list[Assistant] = await client.assistants.search(metadata={"tag": tag})
        page: AssistantsSearchResponse = await client.assistants.search(
            metadata={"tag": tag}, response_format="object"
        )
        walked: list[Assistant] = [a async for a in client.assistants.iter_search(name="typed")]
        n: int = await client.assistants.count(metadata={"tag": tag})

        # threads
        thread: Thread = await client.threads.create(metadata={"tag": tag})
        tid = thread["thread_id"]
        thread = await client.threads.get(tid)
        thread = await client.threads.update(tid, metadata={"stage": "typed"})
        maybe_thread: Thread | None = await client.threads.update(tid, return_minimal=True)
        threads: list[Thread] = await client.threads.search(metadata={"tag": tag})
        all_threads: AsyncIterator[Thread] = client.threads.iter_search(metadata={"tag": tag})
        threads = [t async for t in all_threads]
        n = await client.threads.count(metadata={"tag": tag})
        values: Any = await client.runs.wait(tid, aid, input=HI)
        state: ThreadState = await client.threads.get_state(tid)
        checkpoint_id = state["checkpoint"]["checkpoint_id"]
        assert checkpoint_id is not None
        state = await client.threads.get_state(tid, checkpoint_id)  # seed: an id string
        state = await client.threads.get_state(tid, state["checkpoint"])  # official: a dict
        updated: ThreadUpdateStateResponse = await client.threads.update_state(
            tid, {"count": 5}, as_node="b"
        )
        history: list[ThreadState] = await client.threads.get_history(tid, limit=2)
        history = await client.threads.get_history(tid, before=checkpoint_id)
        twin: Thread = await client.threads.copy(tid)
        pruned: dict[str, Any] = await client.threads.prune([twin["thread_id"]])

        # runs
        parts: list[StreamPart] = [p async for p in client.runs.stream(tid, aid, input=HI)]
        parts_v2: list[StreamPartV2] = [
            p async for p in client.runs.stream(None, "agent", input=HI, version="v2")
        ]
        run: Run = await client.runs.create(tid, aid, input=HI)
        values = await client.runs.join(tid, run["run_id"])
        parts = [p async for p in client.runs.join_stream(tid, run["run_id"])]
        run = await client.runs.get(tid, run["run_id"])
        runs: list[Run] = await client.runs.list(tid, limit=5)
        batch: list[Run] = await client.runs.create_batch([{"assistant_id": aid, "input": HI}])
        slow: Run = await client.runs.create(tid, "slow", input={"sleep": 30})
        cancelled: Any = await client.runs.cancel(
            tid, slow["run_id"], True
        )  # seed: wait positional
        slow = await client.runs.create(tid, "slow", input={"sleep": 30})
        none: None = await client.runs.cancel_many(thread_id=tid, run_ids=[slow["run_id"]])
        none = await client.runs.delete(tid, run["run_id"])
        # a thread stream sees the runs started after it is joined
        watched = await client.runs.create(tid, aid, input=HI, after_seconds=1)
        async for part in await client.threads.join_stream(tid):
            if part.event == "metadata" and part.data.get("status") == "run_done":
                break
        values = await client.runs.join(tid, watched["run_id"])

        # crons
        cron: Cron = await client.crons.create_for_thread(tid, aid, schedule=NEVER)
        thread_cron: Cron = await client.crons.create(tid, aid, schedule=NEVER)  # seed form
        stateless: Cron = await client.crons.create(aid, schedule=NEVER, metadata={"tag": tag})
        cron = await client.crons.get(cron["cron_id"])
        cron = await client.crons.update(cron["cron_id"], enabled=False)
        crons: list[Cron] = await client.crons.search(assistant_id=aid)
        crons = [c async for c in client.crons.iter_search(thread_id=tid)]
        n = await client.crons.count(assistant_id=aid)
        for job in (cron, thread_cron, stateless):
            none = await client.crons.delete(job["cron_id"])

        # store
        ns = ["typed", tag]
        none = await client.store.put_item(ns, "a", {"text": "hello"})
        item: Item | None = await client.store.get_item(ns, "a")
        found: SearchItemsResponse = await client.store.search_items(ns, limit=5)
        items: list[SearchItem] = [i async for i in client.store.iter_search_items(ns)]
        spaces: ListNamespaceResponse = await client.store.list_namespaces(prefix=["typed"])
        none = await client.store.delete_item(ns, "a")
        none = await client.store.put(ns, "b", {"text": "seed"})
        item = await client.store.get(ns, "b")
        items = await client.store.search(ns, filter={"text": "seed"})
        none = await client.store.delete(ns, "b")

        # http
        body: Any = await client.http.get(f"/threads/{tid}")
        body = await client.http.post("/threads/count", json={})
        body = await client.http.put(
            "/store/items", json={"namespace": ns, "key": "c", "value": {}}
        )
        body = await client.http.patch(f"/threads/{tid}", json={"metadata": {"via": "http"}})
        body = await client.http.request_reconnect(join_path(tid, watched), "GET")
        raw: list[StreamPart] = [
            p
            async for p in client.http.stream(
                f"/threads/{tid}/runs/stream", "POST", json={"assistant_id": aid, "input": HI}
            )
        ]
        body = await client.http.delete("/store/items", json={"namespace": ns, "key": "c"})
        base_url: str = str(client.http.client.base_url)

        # clean up
        none = await client.threads.delete(tid)
        none = await client.assistants.delete(aid, delete_threads=True)


def use_sync_client(url: str) -> None:
    tag = uuid.uuid4().hex
    with get_sync_client(url=url, api_key=None) as client:
        # assistants
        assistant: Assistant = client.assistants.create(
            "agent", {"configurable": {"x": 1}}, metadata={"tag": tag}, name="typed"
        )
        aid = assistant["assistant_id"]
        assistant = client.assistants.get(aid)
        assistant = client.assistants.update(aid, name="typed-2")
        graph: dict[str, list[dict[str, Any]]] = client.assistants.get_graph(aid, xray=1)
        schemas: GraphSchema = client.assistants.get_schemas(aid)
        subgraphs: Subgraphs = client.assistants.get_subgraphs(aid, recurse=True)
        versions: list[AssistantVersion] = client.assistants.get_versions(aid)
        assistant = client.assistants.set_latest(aid, 1)
        assistants: list[Assistant] = client.assistants.search(metadata={"tag": tag})
        page: AssistantsSearchResponse = client.assistants.search(
            metadata={"tag": tag}, response_format="object"
        )
        walked: list[Assistant] = list(client.assistants.iter_search(name="typed"))
        n: int = client.assistants.count(metadata={"tag": tag})

        # threads
        thread: Thread = client.threads.create(metadata={"tag": tag})
        tid = thread["thread_id"]
        thread = client.threads.get(tid)
        thread = client.threads.update(tid, metadata={"stage": "typed"})
        maybe_thread: Thread | None = client.threads.update(tid, return_minimal=True)
        threads: list[Thread] = client.threads.search(metadata={"tag": tag})
        all_threads: Iterator[Thread] = client.threads.iter_search(metadata={"tag": tag})
        threads = list(all_threads)
        n = client.threads.count(metadata={"tag": tag})
        values: Any = client.runs.wait(tid, aid, input=HI)
        state: ThreadState = client.threads.get_state(tid)
        checkpoint_id = state["checkpoint"]["checkpoint_id"]
        assert checkpoint_id is not None
        state = client.threads.get_state(tid, checkpoint_id)  # seed: an id string
        state = client.threads.get_state(tid, state["checkpoint"])  # official: a dict
        updated: ThreadUpdateStateResponse = client.threads.update_state(
            tid, {"count": 5}, as_node="b"
        )
        history: list[ThreadState] = client.threads.get_history(tid, limit=2)
        history = client.threads.get_history(tid, before=checkpoint_id)
        twin: Thread = client.threads.copy(tid)
        pruned: dict[str, Any] = client.threads.prune([twin["thread_id"]])

        # runs
        parts: list[StreamPart] = list(client.runs.stream(tid, aid, input=HI))
        parts_v2: list[StreamPartV2] = list(
            client.runs.stream(None, "agent", input=HI, version="v2")
        )
        run: Run = client.runs.create(tid, aid, input=HI)
        values = client.runs.join(tid, run["run_id"])
        parts = list(client.runs.join_stream(tid, run["run_id"]))
        run = client.runs.get(tid, run["run_id"])
        runs: list[Run] = client.runs.list(tid, limit=5)
        batch: list[Run] = client.runs.create_batch([{"assistant_id": aid, "input": HI}])
        slow: Run = client.runs.create(tid, "slow", input={"sleep": 30})
        cancelled: Any = client.runs.cancel(tid, slow["run_id"], True)  # seed: wait positional
        slow = client.runs.create(tid, "slow", input={"sleep": 30})
        none: None = client.runs.cancel_many(thread_id=tid, run_ids=[slow["run_id"]])
        none = client.runs.delete(tid, run["run_id"])
        # a thread stream sees the runs started after it is joined
        watched = client.runs.create(tid, aid, input=HI, after_seconds=1)
        for part in client.threads.join_stream(tid):
            if part.event == "metadata" and part.data.get("status") == "run_done":
                break
        values = client.runs.join(tid, watched["run_id"])

        # crons
        cron: Cron = client.crons.create_for_thread(tid, aid, schedule=NEVER)
        thread_cron: Cron = client.crons.create(tid, aid, schedule=NEVER)  # seed form
        stateless: Cron = client.crons.create(aid, schedule=NEVER, metadata={"tag": tag})
        cron = client.crons.get(cron["cron_id"])
        cron = client.crons.update(cron["cron_id"], enabled=False)
        crons: list[Cron] = client.crons.search(assistant_id=aid)
        crons = list(client.crons.iter_search(thread_id=tid))
        n = client.crons.count(assistant_id=aid)
        for job in (cron, thread_cron, stateless):
            none = client.crons.delete(job["cron_id"])

        # store
        ns = ["typed", tag]
        none = client.store.put_item(ns, "a", {"text": "hello"})
        item: Item | None = client.store.get_item(ns, "a")
        found: SearchItemsResponse = client.store.search_items(ns, limit=5)
        items: list[SearchItem] = list(client.store.iter_search_items(ns))
        spaces: ListNamespaceResponse = client.store.list_namespaces(prefix=["typed"])
        none = client.store.delete_item(ns, "a")
        none = client.store.put(ns, "b", {"text": "seed"})
        item = client.store.get(ns, "b")
        items = client.store.search(ns, filter={"text": "seed"})
        none = client.store.delete(ns, "b")

        # http
        body: Any = client.http.get(f"/threads/{tid}")
        body = client.http.post("/threads/count", json={})
        body = client.http.put("/store/items", json={"namespace": ns, "key": "c", "value": {}})
        body = client.http.patch(f"/threads/{tid}", json={"metadata": {"via": "http"}})
        body = client.http.request_reconnect(join_path(tid, watched), "GET")
        raw: list[StreamPart] = list(
            client.http.stream(
                f"/threads/{tid}/runs/stream", "POST", json={"assistant_id": aid, "input": HI}
            )
        )
        body = client.http.delete("/store/items", json={"namespace": ns, "key": "c"})
        base_url: str = str(client.http.client.base_url)

        # clean up
        none = client.threads.delete(tid)
        none = client.assistants.delete(aid, delete_threads=True)


QUESTION = {"messages": [{"role": "user", "content": "what is v3?"}], "ask": True}


async def use_async_thread_stream(url: str) -> None:
    async with get_client(url=url, api_key=None) as client:
        session: AsyncThreadStream = client.threads.stream(assistant_id="toolagent")
        async with session as thread:
            started: dict[str, Any] = await thread.run.start(input=QUESTION)
            run_id: str = started["run_id"]
            async for message in thread.messages:
                stream: AsyncMessageStream = message
                tokens: list[str] = [t async for t in stream.text]
                whole: StreamedMessage = await stream.output
                text: str = await stream.text
            calls: list[AsyncToolCall] = [c async for c in thread.tool_calls]
            result: Any = await calls[0].output
            handles: list[AsyncSubgraphHandle] = [h async for h in thread.subgraphs]
            inner: list[AsyncMessageStream] = [m async for m in handles[0].messages]
            notes: list[dict[str, Any]] = [n async for n in thread.extensions["progress"]]
            snapshots: list[dict[str, Any]] = [v async for v in thread.values]
            events: list[dict[str, Any]] = [e async for e in thread.subscribe(["lifecycle"])]
            pairs: list[tuple[str, Any]] = [
                p async for p in thread.interleave_projections(["values", "messages"])
            ]
            interrupted: bool = thread.interrupted
            interrupts: list[InterruptPayload] = thread.interrupts
            answered: dict[str, Any] = await thread.run.respond("yes")
            final: Any = await thread.output
            tree: dict[str, Any] = await thread.agent.get_tree()


def use_sync_thread_stream(url: str) -> None:
    with get_sync_client(url=url, api_key=None) as client:
        session: SyncThreadStream = client.threads.stream(
            assistant_id="toolagent", transport="websocket"
        )
        with session as thread:
            started: dict[str, Any] = thread.run.start(input=QUESTION)
            for message in thread.messages:
                stream: MessageStream = message
                tokens: list[str] = list(stream.text)
                whole: StreamedMessage = stream.output
                text: str = stream.text.get()
            calls: list[ToolCall] = list(thread.tool_calls)
            result: Any = calls[0].output
            handles: list[SubgraphHandle] = list(thread.subgraphs)
            inner: list[MessageStream] = list(handles[0].messages)
            notes: list[dict[str, Any]] = list(thread.extensions["progress"])
            snapshots: list[dict[str, Any]] = list(thread.values)
            events: list[dict[str, Any]] = list(thread.subscribe(["lifecycle"]))
            interrupted: bool = thread.interrupted
            interrupts: list[InterruptPayload] = thread.interrupts
            answered: dict[str, Any] = thread.run.respond("yes")
            final: Any = thread.output
            tree: dict[str, Any] = thread.agent.get_tree()


def join_path(thread_id: str, run: Run) -> str:
    """The long-poll path of a run (and proof that `Run` has a `str` `run_id`)."""
    return f"/threads/{thread_id}/runs/{run['run_id']}/join"
