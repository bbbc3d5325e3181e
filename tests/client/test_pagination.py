"""`iter_search` helpers walk every page (async: `async for`; sync: `for`)."""

from __future__ import annotations

import uuid


async def test_iter_search_walks_all_pages_of_threads_and_assistants(api):
    c = api.client
    tag = uuid.uuid4().hex
    threads = [await api(c.threads.create, metadata={"tag": tag, "i": i}) for i in range(7)]
    assistants = [await api(c.assistants.create, "agent", metadata={"tag": tag}) for _ in range(5)]
    walked = await api.collect(c.threads.iter_search, metadata={"tag": tag}, page_size=3)
    assert sorted(t["thread_id"] for t in walked) == sorted(t["thread_id"] for t in threads)
    walked = await api.collect(c.assistants.iter_search, metadata={"tag": tag}, page_size=2)
    assert sorted(a["assistant_id"] for a in walked) == sorted(
        a["assistant_id"] for a in assistants
    )
    # stopping early stops fetching
    assert (
        len(await api.collect(c.threads.iter_search, metadata={"tag": tag}, page_size=3, limit=4))
        == 4
    )


async def test_iter_search_items_walks_all_pages(api):
    c = api.client
    ns = ["pages", uuid.uuid4().hex]
    for i in range(5):
        await api(c.store.put_item, ns, f"k{i}", {"i": i})
    walked = await api.collect(c.store.iter_search_items, ns, page_size=2)
    assert sorted(i["key"] for i in walked) == [f"k{i}" for i in range(5)]


async def test_iter_search_crons(api):
    c = api.client
    tag = uuid.uuid4().hex
    (agent,) = await api(c.assistants.search, graph_id="agent", metadata={"created_by": "system"})
    made = [
        await api(
            c.crons.create,
            agent["assistant_id"],
            schedule="0 0 1 1 *",
            metadata={"tag": tag},
            enabled=False,
        )
        for _ in range(3)
    ]
    walked = await api.collect(c.crons.iter_search, metadata={"tag": tag}, page_size=2)
    assert sorted(x["cron_id"] for x in walked) == sorted(x["cron_id"] for x in made)
    for cron in made:
        await api(c.crons.delete, cron["cron_id"])
