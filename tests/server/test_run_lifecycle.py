"""Run lifecycle through the official SDK: statuses, interrupts, resume, errors, stateless runs."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def _wait_status(sdk, thread_id, run_id, statuses, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = await sdk.runs.get(thread_id, run_id)
        if run["status"] in statuses:
            return run
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} stayed {run['status']}, wanted {statuses}")


async def test_background_run_goes_pending_running_success(sdk):
    thread = await sdk.threads.create()
    run = await sdk.runs.create(thread["thread_id"], "slow", input={"sleep": 0.3})
    assert run["status"] == "pending"
    assert (await sdk.threads.get(thread["thread_id"]))["status"] == "busy"
    await _wait_status(sdk, thread["thread_id"], run["run_id"], {"running"})
    final = await sdk.runs.join(thread["thread_id"], run["run_id"])
    assert final["count"] == 1
    done = await sdk.runs.get(thread["thread_id"], run["run_id"])
    assert done["status"] == "success"
    assert run["kwargs"]["input"] == {"sleep": 0.3}
    assert done["metadata"]["graph_id"] == "slow"
    after = await sdk.threads.get(thread["thread_id"])
    assert after["status"] == "idle" and after["values"]["count"] == 1
    assert after["metadata"]["graph_id"] == "slow"


async def test_interrupt_then_resume_with_command(sdk):
    thread = await sdk.threads.create()
    tid = thread["thread_id"]
    result = await sdk.runs.wait(tid, "hitl", input={"messages": []})
    assert result["__interrupt__"][0]["value"] == {"question": "approve?", "n": 0}
    interrupted = await sdk.threads.get(tid)
    assert interrupted["status"] == "interrupted"
    [(task_id, [interrupt])] = interrupted["interrupts"].items()
    assert set(interrupt) == {"id", "value"}
    runs = await sdk.runs.list(tid)
    assert runs[0]["status"] == "success"  # stopping at interrupt() is a successful run
    state = await sdk.threads.get_state(tid)
    assert state["next"] == ["ask"] and state["tasks"][0]["id"] == task_id
    resumed = await sdk.runs.wait(tid, "hitl", command={"resume": "yes"})
    assert resumed["answer"] == "yes"
    assert resumed["messages"][-1]["content"] == "done:yes"
    assert (await sdk.threads.get(tid))["status"] == "idle"


async def test_interrupt_before_and_continue_with_null_input(sdk):
    thread = await sdk.threads.create()
    tid = thread["thread_id"]
    await sdk.runs.wait(tid, "agent", input=HI, interrupt_before=["b"])
    state = await sdk.threads.get_state(tid)
    assert state["next"] == ["b"]
    assert (await sdk.threads.get(tid))["status"] == "interrupted"
    final = await sdk.runs.wait(tid, "agent", input=None)
    assert final["count"] == 2
    await sdk.runs.wait(tid, "agent", input=HI, interrupt_after="*")
    assert (await sdk.threads.get_state(tid))["next"] == ["b"]


async def test_update_state_while_interrupted_skips_the_node(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(tid, "hitl", input={"messages": []})
    await sdk.threads.update_state(tid, {"answer": "manual"}, as_node="ask")
    state = await sdk.threads.get_state(tid)
    assert state["next"] == ["finish"]
    final = await sdk.runs.wait(tid, "hitl", input=None)
    assert final["messages"][-1]["content"] == "done:manual"


async def test_failed_run_wait_body_and_thread_error(graphdock_server, sdk):
    tid = (await sdk.threads.create())["thread_id"]
    r = httpx.post(
        f"{graphdock_server}/threads/{tid}/runs/wait",
        json={"assistant_id": "fail", "input": {}},
        timeout=30,
    )
    assert r.status_code == 200
    assert r.json() == {"__error__": {"error": "ValueError", "message": "boom"}}
    assert r.headers["location"].endswith("/join")
    thread = await sdk.threads.get(tid)
    assert thread["status"] == "error"
    assert thread["error"] == {"error": "ValueError", "message": "boom"}
    assert thread["values"] == {"messages": [{"role": "assistant", "content": "ok"}]}
    assert (await sdk.runs.list(tid))[0]["status"] == "error"


async def test_stateless_runs_delete_or_keep_their_thread(sdk):
    result = await sdk.runs.wait(None, "agent", input=HI)
    assert result["count"] == 2
    kept = await sdk.runs.create(None, "agent", input=HI, on_completion="keep")
    assert kept["kwargs"]["temporary"] is False
    await _wait_status(sdk, kept["thread_id"], kept["run_id"], {"success"})
    thread = await sdk.threads.get(kept["thread_id"])
    assert thread["values"]["count"] == 2
    gone = await sdk.runs.create(None, "agent", input=HI)
    assert gone["kwargs"]["temporary"] is True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            await sdk.threads.get(gone["thread_id"])
        except httpx.HTTPStatusError as exc:
            assert exc.response.status_code == 404
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("temporary thread was not deleted")


async def test_batch_creates_every_run(graphdock_server):
    r = httpx.post(
        f"{graphdock_server}/runs/batch", json=[{"assistant_id": "agent", "input": HI}] * 3
    )
    assert r.status_code == 200 and len(r.json()) == 3
    assert len({run["run_id"] for run in r.json()}) == 3
    assert httpx.post(f"{graphdock_server}/runs/batch", json=[]).status_code == 422


async def test_after_seconds_delays_the_start(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    started = time.monotonic()
    run = await sdk.runs.create(tid, "agent", input=HI, after_seconds=1)
    await asyncio.sleep(0.5)
    assert (await sdk.runs.get(tid, run["run_id"]))["status"] == "pending"
    await sdk.runs.join(tid, run["run_id"])
    assert time.monotonic() - started >= 1.0
    assert (await sdk.runs.get(tid, run["run_id"]))["status"] == "success"


async def test_context_merges_over_the_assistant_context(sdk):
    assistant = await sdk.assistants.create(
        "schemas", context={"model_name": "m1", "temperature": 1.0}
    )
    out = await sdk.runs.wait(None, assistant["assistant_id"], input={"question": "q"})
    assert out == {"answer": "q? (m1)"}
    out = await sdk.runs.wait(
        None, assistant["assistant_id"], input={"question": "q"}, context={"model_name": "run"}
    )
    assert out == {"answer": "q? (run)"}


async def test_graph_factory_gets_the_run_config(sdk):
    out = await sdk.runs.wait(
        None, "factory", input={"messages": []}, config={"configurable": {"greeting": "hey"}}
    )
    assert out["messages"][-1]["content"] == "hey"


async def test_command_update_and_goto(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(tid, "agent", input=HI)
    out = await sdk.runs.wait(tid, "agent", command={"update": {"count": 10}, "goto": "b"})
    assert out["count"] == 11
    assert out["messages"][-1]["content"] == "b"


async def test_fork_from_a_checkpoint(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    await sdk.runs.wait(tid, "agent", input=HI)
    history = await sdk.threads.get_history(tid, limit=10)
    after_a = next(s for s in history if s["next"] == ["b"])
    out = await sdk.runs.wait(tid, "agent", input=None, checkpoint_id=after_a["checkpoint_id"])
    assert out["count"] == 2
    newest = (await sdk.threads.get_history(tid, limit=1))[0]
    assert newest["parent_checkpoint"]["checkpoint_id"] != history[0]["checkpoint_id"]


async def test_run_fields_are_recorded(sdk):
    tid = (await sdk.threads.create())["thread_id"]
    run = await sdk.runs.create(
        tid,
        "agent",
        input=HI,
        metadata={"m": 1},
        stream_mode=["updates", "values"],
        durability="sync",
        stream_resumable=True,
    )
    kw = run["kwargs"]
    assert kw["stream_mode"] == ["updates", "values"]
    assert kw["durability"] == "sync" and kw["resumable"] is True
    assert run["metadata"]["m"] == 1 and run["metadata"]["assistant_id"]
    await sdk.runs.join(tid, run["run_id"])
    listed = await sdk.runs.list(tid, status="success", select=["run_id", "status"])
    assert listed == [{"run_id": run["run_id"], "status": "success"}]


def test_feedback_keys_and_checkpoint_during_are_kept(graphdock_server):
    tid = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    body = {
        "assistant_id": "agent",
        "input": HI,
        "feedback_keys": ["k"],
        "checkpoint_during": False,
    }
    run = httpx.post(f"{graphdock_server}/threads/{tid}/runs", json=body).json()
    assert run["kwargs"]["feedback_keys"] == ["k"]
    assert run["kwargs"]["durability"] == "exit"  # no checkpoints during the run: only at exit


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"assistant_id": "nope"}, "Invalid assistant"),
        ({"assistant_id": "agent", "checkpoint_id": "x"}, "Invalid checkpoint ID"),
        ({"assistant_id": "agent", "multitask_strategy": "bogus"}, "multitask_strategy"),
        ({"assistant_id": "agent", "durability": "never"}, "durability"),
        ({"assistant_id": "agent", "webhook": "http://169.254.169.254/latest"}, "blocked IP range"),
        (
            {"assistant_id": "agent", "webhook": "ftp://example.com/hook"},
            "scheme 'ftp' not allowed",
        ),
        (
            {"assistant_id": "agent", "config": {"configurable": {"a": 1}}, "context": {"a": 1}},
            "Cannot specify both",
        ),
    ],
)
def test_bad_run_fields_are_refused(graphdock_server, body, fragment):
    tid = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    r = httpx.post(f"{graphdock_server}/threads/{tid}/runs", json=body)
    assert r.status_code in (400, 422), r.text
    assert fragment in r.json()["detail"]


def test_runs_on_unknown_thread_or_assistant_are_404(graphdock_server):
    missing = "00000000-0000-4000-8000-000000000000"
    r = httpx.post(f"{graphdock_server}/threads/{missing}/runs", json={"assistant_id": "agent"})
    assert r.status_code == 404 and r.json()["detail"] == "Thread or assistant not found."
    tid = httpx.post(f"{graphdock_server}/threads", json={}).json()["thread_id"]
    r = httpx.post(f"{graphdock_server}/threads/{tid}/runs", json={"assistant_id": missing})
    assert r.status_code == 404
    r = httpx.post(
        f"{graphdock_server}/threads/{missing}/runs/wait",
        json={"assistant_id": "agent", "input": HI, "if_not_exists": "create"},
    )
    assert r.status_code == 200 and r.json()["count"] == 2
