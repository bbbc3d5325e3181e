"""No field of a request body reaches a thread other than the one the path names.

A run, a state read, a history page or a state update addresses a checkpoint with a body
field (`checkpoint`, `before`) that clients fill from earlier answers, `thread_id` and all.
The thread in it must be the path's: another user's thread would otherwise be read and
written through one's own, and even without auth a run would write one thread's
checkpoints while recording the result on another.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from tests.conftest import BACKENDS
from tests.support.server import ServerProcess

AUTH_APP = Path(__file__).resolve().parents[1] / "app_auth" / "langgraph.json"
SECRET = {"messages": [{"role": "user", "content": "alice's secret"}]}
HELLO = {"messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module", params=BACKENDS)
def auth_server(request, tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("isolation"), AUTH_APP, backend=request.param)
    yield server.start()
    server.cleanup()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def checkpoint_ids(history: list[dict]) -> list[str]:
    return [state["checkpoint"]["checkpoint_id"] for state in history]


async def test_a_run_cannot_start_from_another_users_thread(auth_server):
    alice = get_client(url=auth_server.url, api_key=None, headers=bearer("tok-alice"))
    bob = get_client(url=auth_server.url, api_key=None, headers=bearer("tok-bob"))
    theirs = (await alice.threads.create())["thread_id"]
    await alice.runs.wait(theirs, "agent", input=SECRET)
    before = checkpoint_ids(await alice.threads.get_history(theirs, limit=100))
    mine = (await bob.threads.create())["thread_id"]

    pointers = [{"thread_id": theirs}, {"thread_id": theirs, "checkpoint_id": before[0]}]
    async with httpx.AsyncClient(base_url=auth_server.url, headers=bearer("tok-bob")) as http:
        for checkpoint in pointers:
            for tail in ("wait", "stream"):
                response = await http.post(
                    f"/threads/{mine}/runs/{tail}",
                    json={"assistant_id": "agent", "input": HELLO, "checkpoint": checkpoint},
                )
                assert response.status_code == 422, (tail, response.text)
                assert "checkpoint" in response.json()["detail"]
                assert "secret" not in response.text
        # a background run is refused the same way, before anything is queued
        response = await http.post(
            f"/threads/{mine}/runs",
            json={"assistant_id": "agent", "input": HELLO, "checkpoint": pointers[0]},
        )
        assert response.status_code == 422

    assert checkpoint_ids(await alice.threads.get_history(theirs, limit=100)) == before
    assert await bob.runs.list(mine) == []
    assert (await bob.threads.get(mine))["values"] is None


async def test_state_reads_and_writes_stay_on_the_paths_thread(auth_server):
    alice = get_client(url=auth_server.url, api_key=None, headers=bearer("tok-alice"))
    bob = get_client(url=auth_server.url, api_key=None, headers=bearer("tok-bob"))
    theirs = (await alice.threads.create())["thread_id"]
    await alice.runs.wait(theirs, "agent", input=SECRET)
    their_checkpoint = (await alice.threads.get_state(theirs))["checkpoint"]
    mine = (await bob.threads.create())["thread_id"]
    await bob.runs.wait(mine, "agent", input=HELLO)

    async with httpx.AsyncClient(base_url=auth_server.url, headers=bearer("tok-bob")) as http:
        attempts = [
            ("POST", f"/threads/{mine}/state/checkpoint", {"checkpoint": their_checkpoint}),
            ("POST", f"/threads/{mine}/history", {"checkpoint": their_checkpoint}),
            ("POST", f"/threads/{mine}/history", {"before": {"configurable": their_checkpoint}}),
            (
                "POST",
                f"/threads/{mine}/state",
                {"values": {"count": 99}, "checkpoint": their_checkpoint},
            ),
        ]
        for method, url, body in attempts:
            response = await http.request(method, url, json=body)
            assert response.status_code == 422, (url, body, response.text)
            assert "secret" not in response.text
    state = await alice.threads.get_state(theirs)
    assert state["checkpoint"] == their_checkpoint
    assert state["values"]["count"] == 2


async def test_without_auth_a_run_records_on_the_thread_it_ran_on(graphdock_server):
    """The other thread's record must not take this run's values while its own stays empty."""
    client = get_client(url=graphdock_server, api_key=None)
    first = (await client.threads.create())["thread_id"]
    await client.runs.wait(first, "agent", input=HELLO)
    second = (await client.threads.create())["thread_id"]
    response = httpx.post(
        f"{graphdock_server}/threads/{second}/runs/wait",
        json={"assistant_id": "agent", "input": HELLO, "checkpoint": {"thread_id": first}},
    )
    assert response.status_code == 422
    assert first in response.json()["detail"]
    assert (await client.threads.get(second))["values"] is None
    assert await client.threads.get_history(second) == []
    assert len(await client.threads.get_history(first, limit=100)) == 4


async def test_a_checkpoint_of_the_same_thread_still_forks(graphdock_server):
    """Clients echo a state's whole checkpoint (its thread_id included) to fork from it."""
    client = get_client(url=graphdock_server, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread, "agent", input=HELLO)
    history = await client.threads.get_history(thread, limit=100)
    after_a = next(s for s in history if s["next"] == ["b"])
    assert after_a["checkpoint"]["thread_id"] == thread
    result = await client.runs.wait(thread, "agent", input=None, checkpoint=after_a["checkpoint"])
    assert result["count"] == 2
    assert [m["content"] for m in result["messages"]] == ["hello", "a", "b"]
    state = await client.threads.get_state(thread, checkpoint=after_a["checkpoint"])
    assert state["values"]["count"] == 1


async def test_a_fork_by_config_does_not_pin_later_state_reads(graphdock_server):
    """A run started at `config.configurable.checkpoint_id` leaves the thread reading its
    latest state afterwards, not the checkpoint that run started from."""
    client = get_client(url=graphdock_server, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread, "agent", input=HELLO)
    history = await client.threads.get_history(thread, limit=100)
    first = history[-1]["checkpoint"]["checkpoint_id"]
    await client.runs.wait(
        thread, "agent", input=HELLO, config={"configurable": {"checkpoint_id": first}}
    )
    latest = await client.threads.get_history(thread, limit=1)
    state = await client.threads.get_state(thread)
    assert state["checkpoint"]["checkpoint_id"] == latest[0]["checkpoint"]["checkpoint_id"]
    assert state["checkpoint"]["checkpoint_id"] != first
