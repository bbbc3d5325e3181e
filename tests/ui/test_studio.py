"""graphdock Studio driven in headless Chromium against `graphdock dev` on the bundled
examples (examples/langgraph.json): every view, as a person would use it, with what the UI
shows checked against what the API says."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.server import ROOT, ServerProcess

pytestmark = pytest.mark.xdist_group("ui-studio")

EXAMPLES = ROOT / "examples" / "langgraph.json"
CHAT_REPLIES = {
    "Hello! I am a fake model, so I say the same few things.",
    "Streaming works token by token, just like a real model.",
    "Try the approval graph for a human-in-the-loop example.",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("studio"), config=EXAMPLES, command="dev")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def system_assistant(api: httpx.Client, graph_id: str) -> str:
    found = api.post(
        "/assistants/search", json={"graph_id": graph_id, "metadata": {"created_by": "system"}}
    ).json()
    return found[0]["assistant_id"]


def start_run(studio, api: httpx.Client, graph_id: str, **fields: str) -> None:
    """Open the run view on a graph's assistant, fill the input form, and start the run."""
    studio.goto(f"/ui/run?assistant={system_assistant(api, graph_id)}")
    for name, value in fields.items():
        studio.page.locator(f"[name={name}]").fill(value)
    studio.page.get_by_role("button", name="Start run").click()


def run_thread(studio) -> str:
    """The thread the run view runs on (the URL names it once the run has started)."""
    return re.search(r"thread=([0-9a-f-]+)", studio.page.url)[1]


def chat_thread(api: httpx.Client, *messages: str) -> str:
    """A chat thread with one run per message, each finished."""
    thread_id = api.post("/threads", json={}).json()["thread_id"]
    for text in messages:
        r = api.post(
            f"/threads/{thread_id}/runs/wait",
            json={
                "assistant_id": "chat",
                "input": {"messages": [{"role": "user", "content": text}]},
            },
        )
        assert r.status_code == 200, r.text
    return thread_id


# ------------------------------------------------------------------ serving


def test_ui_is_served_with_its_caching_and_policy(server, api):
    page = api.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/ui/assets/[^"]+)"', page.text)
    assert {a.rsplit(".", 1)[1] for a in assets} == {"js", "css"}
    for asset in assets:
        r = api.get(asset)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-type"].startswith(("text/javascript", "text/css"))
    # a deep link is the app's page; a missing asset is a 404 that says so, never the page
    deep = api.get("/ui/threads/6f1c1a7e-0000-4000-8000-000000000000?checkpoint=x")
    assert deep.status_code == 200 and deep.text == page.text
    missing = api.get("/ui/assets/index-nothere.js")
    assert missing.status_code == 404
    assert "index-nothere.js" in missing.json()["detail"]
    outside = httpx.get(server.url + "/ui/assets/..%2f..%2froutes%2fui.py")
    assert outside.status_code == 404
    assert api.head("/ui/").status_code == 200


def test_dev_redirects_the_root_to_the_ui_and_says_where_it_is(server, api):
    root = api.get("/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == "/ui/"
    assert api.get("/ok").json() == {"ok": True, "services": {}}
    assert f"UI:    {server.url}/ui" in server.log()


# ------------------------------------------------------------------ graphs and assistants


def test_graph_view_draws_every_node_of_research(studio, api):
    research = system_assistant(api, "research")
    studio.goto("/ui/assistants")
    studio.page.get_by_role("link", name="research", exact=True).click()
    expect(studio.page).to_have_url(re.compile(f"/ui/assistants/{research}$"))
    graph = api.get(f"/assistants/{research}/graph").json()
    drawn = studio.page.locator("svg g.node")
    expect(drawn).to_have_count(len(graph["nodes"]))
    for node in graph["nodes"]:
        expect(studio.page.locator(f'svg g.node[data-node="{node["id"]}"]')).to_be_visible()
    for edge in graph["edges"]:
        selector = f'svg g.edge[data-edge="{edge["source"]}->{edge["target"]}"]'
        expect(studio.page.locator(selector)).to_have_count(1)
    expect(studio.page.get_by_role("tab", name="input")).to_have_attribute("aria-selected", "true")
    expect(studio.page.locator('#schemas tr[data-field="progress_events"]')).to_contain_text(
        "integer"
    )
    expect(studio.page.locator('#schemas tr[data-field="steps"]')).to_contain_text("list of string")
    studio.shot("graph")

    # xray: the subgraph's nodes, drawn inside a box named after it; the URL keeps the choice
    studio.page.get_by_label("Show subgraphs (xray)").check()
    expect(studio.page).to_have_url(re.compile(r"xray=1"))
    xray = api.get(f"/assistants/{research}/graph", params={"xray": "true"}).json()
    assert "worker:work" in {n["id"] for n in xray["nodes"]}
    expect(studio.page.locator('svg g.node[data-node="worker:work"]')).to_be_visible()
    expect(studio.page.locator('svg g.cluster[data-cluster="worker"]')).to_be_visible()
    expect(studio.page.locator("svg g.node")).to_have_count(len(xray["nodes"]))
    studio.shot("graph-xray")
    studio.page.reload()
    expect(studio.page.locator('svg g.node[data-node="worker:work"]')).to_be_visible()


def test_an_assistant_is_created_edited_and_an_old_version_made_latest(studio, api):
    name = f"ui-{uuid.uuid4().hex[:8]}"
    studio.goto("/ui/assistants")
    form = studio.page.get_by_role("form", name="Create an assistant")
    form.locator("select[name=graph_id]").select_option("chat")
    form.locator("input[name=name]").fill(name)
    form.locator("textarea[name=metadata]").fill('{"team": "ui"}')
    form.get_by_role("button", name="Create assistant").click()
    expect(studio.page.get_by_role("heading", name=name)).to_be_visible()
    assistant_id = studio.page.url.rsplit("/", 1)[1]
    assert api.get(f"/assistants/{assistant_id}").json()["metadata"] == {"team": "ui"}

    edit = studio.page.get_by_role("form", name="Edit the assistant")
    edit.locator("textarea[name=config]").fill('{"configurable": ')
    expect(edit).to_contain_text("Not valid JSON")
    edit.get_by_role("button", name="Save as a new version").click()
    expect(edit.get_by_role("alert")).to_contain_text("config: not valid JSON")
    edit.locator("input[name=name]").fill(name + "-v2")
    edit.locator("textarea[name=config]").fill('{"configurable": {"tone": "dry"}}')
    edit.get_by_role("button", name="Save as a new version").click()
    expect(studio.page.get_by_role("heading", name=name + "-v2")).to_be_visible()
    versions = studio.page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    latest = api.get(f"/assistants/{assistant_id}").json()
    assert latest["version"] == 2
    assert latest["config"]["configurable"] == {"tone": "dry"}
    studio.shot("assistant")

    studio.page.locator('#versions tr[data-version="1"]').get_by_role(
        "button", name="Make latest"
    ).click()
    expect(studio.page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(studio.page.locator('#versions tr[data-version="1"]')).to_contain_text("latest")
    assert api.get(f"/assistants/{assistant_id}").json()["version"] == 1


def test_an_unknown_thread_shows_the_api_detail(studio, api):
    missing = str(uuid.uuid4())
    detail = api.get(f"/threads/{missing}").json()["detail"]
    studio.goto(f"/ui/threads/{missing}")
    expect(studio.page.get_by_role("alert")).to_contain_text(detail)
    expect(studio.page.get_by_role("alert")).to_contain_text("HTTP 404")


# ------------------------------------------------------------------ run live


def test_a_chat_message_streams_its_tokens_in(studio, api):
    start_run(studio, api, "chat", messages="hello there")
    expect(studio.page.locator(".run-state .status-success")).to_be_visible()
    expect(studio.page).to_have_url(re.compile(r"thread="))

    human = studio.page.locator('.msg[data-role="human"]')
    expect(human).to_have_text(re.compile("hello there"))
    answer = studio.page.locator('.msg[data-role="ai"] .msg-text')
    expect(answer).to_have_count(1)
    text = answer.inner_text()
    assert text in CHAT_REPLIES
    # the answer was put together from the stream's message chunks, one span per chunk
    chunks = answer.locator(".chunk").all_inner_texts()
    assert len(chunks) > 3
    assert "".join(chunks) == text
    assert int(answer.get_attribute("data-chunks")) == len(chunks)
    # what the UI asked for: a POST stream with token streaming on
    ((method, _, _, sent),) = studio.requests.api_calls("/runs/stream")
    assert method == "POST"
    assert "messages-tuple" in json.loads(sent)["stream_mode"]
    thread_id = run_thread(studio)
    state = api.get(f"/threads/{thread_id}/state").json()
    assert [m["content"] for m in state["values"]["messages"]] == ["hello there", text]
    studio.shot("run-chat")


def test_research_streams_subgraph_events_nested(studio, api):
    start_run(studio, api, "research", topic="bees")
    expect(studio.page.locator(".run-state .status-success")).to_be_visible()
    nested = studio.page.locator('.ns-block[data-depth="1"]')
    expect(nested.first).to_contain_text("subgraph worker")
    custom = nested.locator('.event[data-kind="custom"]')
    expect(custom).to_have_count(3)
    expect(custom.first).to_contain_text("bees: background")
    top_updates = studio.page.locator('.ns-block[data-depth="0"] .event[data-kind="updates"]')
    expect(top_updates.locator(".event-nodes")).to_have_text(["plan", "worker", "summarize"])
    studio.shot("run-subgraphs")


def test_the_approval_interrupt_is_answered_from_the_form_and_the_run_finishes(studio, api):
    start_run(studio, api, "approval", request="the budget")
    form = studio.page.get_by_role("form", name="Answer the interrupt")
    expect(form).to_contain_text("Approve this action?")
    expect(form).to_contain_text("send an email about 'the budget'")
    thread_id = run_thread(studio)
    assert api.get(f"/threads/{thread_id}").json()["status"] == "interrupted"
    studio.shot("run-interrupt")

    form.locator("input[name=resume-0]").fill("yes")
    form.get_by_role("button", name="Resume").click()
    expect(studio.page.locator(".run-state .status-success")).to_be_visible()
    expect(form).to_have_count(0)
    thread = api.get(f"/threads/{thread_id}").json()
    assert thread["status"] == "idle"
    assert thread["values"]["approved"] is True
    assert thread["values"]["log"][-1] == "done: send an email about 'the budget'"
    expect(studio.page.get_by_label("Run state")).to_contain_text("done: send an email")

    # a thread left waiting: opening the run view on it offers the answer form at once
    waiting = api.post("/threads", json={}).json()["thread_id"]
    api.post(
        f"/threads/{waiting}/runs/wait",
        json={"assistant_id": "approval", "input": {"request": "lunch"}},
    )
    studio.goto(f"/ui/threads/{waiting}")
    expect(studio.page.locator(".interrupt")).to_contain_text("Approve this action?")
    studio.page.get_by_role("link", name="Answer it").click()
    form.locator("input[name=resume-0]").fill("no")
    form.get_by_role("button", name="Resume").click()
    expect(studio.page.locator(".run-state .status-success")).to_be_visible()
    assert api.get(f"/threads/{waiting}/state").json()["values"]["log"][-1] == (
        "declined: nothing sent"
    )


# ------------------------------------------------------------------ threads


def test_threads_are_searched_counted_paged_created_copied_and_deleted(studio, api):
    marker = uuid.uuid4().hex
    ids = [
        api.post("/threads", json={"metadata": {"ui_test": marker, "n": i}}).json()["thread_id"]
        for i in range(21)
    ]
    api.post(
        f"/threads/{ids[0]}/runs/wait",
        json={"assistant_id": "approval", "input": {"request": "x"}},
    )
    query = json.dumps({"ui_test": marker})
    studio.goto("/ui/threads")
    search = studio.page.get_by_role("form", name="Filter threads")
    search.locator("input[name=metadata]").fill(query)
    search.get_by_role("button", name="Search").click()
    rows = studio.page.locator("table[aria-label=Threads] tbody tr")
    expect(rows).to_have_count(20)
    expect(studio.page.locator(".pager")).to_contain_text("page 1 of 2 (21 threads)")
    counts = studio.page.get_by_label("Thread counts")
    expect(counts.locator('[data-status="interrupted"]')).to_have_text("interrupted 1")
    expect(counts.locator('[data-status="idle"]')).to_have_text("idle 20")
    expect(counts.locator('[data-status="busy"]')).to_have_text("busy 0")
    studio.shot("threads")
    studio.page.get_by_role("button", name="Older →").click()
    expect(rows).to_have_count(1)
    expect(studio.page).to_have_url(re.compile("page=2"))

    counts.locator('[data-status="interrupted"]').click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-thread", ids[0])
    expect(rows.first).to_contain_text("interrupted")

    # copy: a new thread with the same state, opened at once
    rows.first.get_by_role("button", name="Copy").click()
    expect(studio.page).to_have_url(re.compile(r"/ui/threads/[0-9a-f-]+$"))
    copy_id = studio.page.url.rsplit("/", 1)[1]
    assert copy_id != ids[0]
    assert api.get(f"/threads/{copy_id}/state").json()["values"]["request"] == "x"

    # delete, after a second click that confirms it
    studio.page.go_back()
    row = studio.page.locator(f'tr[data-thread="{ids[0]}"]')
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(row).to_have_count(0)
    assert api.get(f"/threads/{ids[0]}").status_code == 404

    create = studio.page.get_by_role("form", name="Create a thread")
    create.locator("textarea[name=new-metadata]").fill(json.dumps({"ui_test": marker, "by": "ui"}))
    create.get_by_role("button", name="Create thread").click()
    expect(studio.page).to_have_url(re.compile(r"/ui/threads/[0-9a-f-]+$"))
    made = studio.page.url.rsplit("/", 1)[1]
    expect(studio.page.locator("h1 .id")).to_have_attribute("title", made)
    assert api.get(f"/threads/{made}").json()["metadata"]["by"] == "ui"


def test_a_thread_shows_its_chat_state_runs_and_history(studio, api):
    thread_id = chat_thread(api, "first question", "second question")
    studio.goto(f"/ui/threads/{thread_id}")
    chat = studio.page.locator(".state-chat .msg")
    expect(chat).to_have_count(4)
    expect(chat.nth(0)).to_have_attribute("data-role", "human")
    expect(chat.nth(1)).to_have_attribute("data-role", "ai")
    expect(studio.page.get_by_label("State values")).to_be_visible()
    expect(studio.page.locator("#runs tbody tr")).to_have_count(2)
    expect(studio.page.locator("#runs .status-success")).to_have_count(2)
    history = api.post(f"/threads/{thread_id}/history", json={"limit": 100}).json()
    expect(studio.page.locator(".timeline-item")).to_have_count(len(history))
    studio.shot("thread")


def test_an_earlier_checkpoint_is_picked_and_forked_from(studio, api):
    thread_id = chat_thread(api, "first question", "second question")
    history = api.post(f"/threads/{thread_id}/history", json={"limit": 100}).json()
    # the checkpoint after the first answer: two messages, nothing left to run
    picked = next(s for s in history if len(s["values"].get("messages", [])) == 2 and not s["next"])
    picked_id = picked["checkpoint"]["checkpoint_id"]
    first_answer = picked["values"]["messages"][1]["content"]

    studio.goto(f"/ui/threads/{thread_id}")
    studio.page.locator(f'.timeline-item[data-checkpoint="{picked_id}"]').click()
    expect(studio.page).to_have_url(re.compile(f"checkpoint={picked_id}"))
    expect(studio.page.locator(".state-chat .msg")).to_have_count(2)
    expect(studio.page.locator("#state h2")).to_contain_text(
        f"State at step {picked['metadata']['step']}"
    )
    studio.shot("thread-history")

    studio.page.get_by_role("link", name="Run from here").click()
    expect(studio.page).to_have_url(re.compile(f"/ui/run\\?.*checkpoint={picked_id}"))
    studio.page.locator("textarea[name=messages]").fill("a different second question")
    studio.page.get_by_role("button", name="Run from this checkpoint").click()
    expect(studio.page.locator(".run-state .status-success")).to_be_visible()
    # the transcript: the conversation as of the fork point, then the new turn
    expect(studio.page.locator('.msg[data-role="human"]')).to_have_count(2)

    state = api.get(f"/threads/{thread_id}/state").json()
    contents = [m["content"] for m in state["values"]["messages"]]
    assert contents[:3] == ["first question", first_answer, "a different second question"]
    assert len(contents) == 4 and "second question" not in contents
    # the new branch grows from the picked checkpoint
    by_id = {
        s["checkpoint"]["checkpoint_id"]: s
        for s in api.post(f"/threads/{thread_id}/history", json={"limit": 100}).json()
    }
    ancestor, seen = state, []
    while ancestor.get("parent_checkpoint"):
        seen.append(ancestor["parent_checkpoint"]["checkpoint_id"])
        ancestor = by_id[seen[-1]]
    assert picked_id in seen


def test_edit_state_updates_the_thread(studio, api):
    thread_id = api.post("/threads", json={}).json()["thread_id"]
    api.post(
        f"/threads/{thread_id}/runs/wait",
        json={"assistant_id": "research", "input": {"topic": "owls"}},
    )
    studio.goto(f"/ui/threads/{thread_id}")
    studio.page.get_by_role("button", name="Edit state").click()
    form = studio.page.get_by_role("form", name="Edit state")
    form.locator("textarea[name=values]").fill('{"topic": "edited in the UI"}')
    form.get_by_role("button", name="Update state").click()
    expect(studio.page.get_by_label("State values")).to_contain_text("edited in the UI")
    expect(studio.page.locator(".timeline li").first).to_contain_text("state edited")
    assert api.get(f"/threads/{thread_id}/state").json()["values"]["topic"] == "edited in the UI"


# ------------------------------------------------------------------ store and crons


def test_a_store_item_is_put_and_found(studio, api):
    namespace = f"ui.{uuid.uuid4().hex[:8]}"
    studio.goto("/ui/store")
    put = studio.page.get_by_role("form", name="Put an item")
    put.locator("input[name=put-namespace]").fill(namespace)
    put.locator("input[name=put-key]").fill("note-1")
    put.locator("textarea[name=put-value]").fill('{"text": "bees make honey", "kind": "fact"}')
    put.get_by_role("button", name="Put item").click()
    expect(studio.page.locator(f'[data-namespace="{namespace}"]')).to_be_visible()
    got = api.get("/store/items", params={"namespace": namespace, "key": "note-1"}).json()
    assert got["value"] == {"text": "bees make honey", "kind": "fact"}

    search = studio.page.get_by_role("form", name="Search the store")
    search.locator("input[name=namespace]").fill(namespace)
    search.locator("input[name=filter]").fill('{"kind": "fact"}')
    search.get_by_role("button", name="Search").click()
    items = studio.page.get_by_label("Items").locator(".item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("note-1")
    expect(items.first).to_contain_text("bees make honey")
    expect(studio.page).to_have_url(re.compile("filter="))
    studio.shot("store")

    search.locator("input[name=filter]").fill('{"kind": "opinion"}')
    search.get_by_role("button", name="Search").click()
    expect(items).to_have_count(0)
    expect(studio.page.locator("text=No item matches.")).to_be_visible()


def test_a_cron_is_created_shown_with_its_next_run_and_deleted(studio, api):
    studio.goto("/ui/crons")
    form = studio.page.get_by_role("form", name="Create a cron")
    chat = system_assistant(api, "chat")
    form.locator("select[name=assistant]").select_option(chat)
    form.locator("input[name=schedule]").fill("17 3 * * *")
    form.locator("textarea[name=input]").fill('{"messages": [{"role": "user", "content": "hi"}]}')
    form.locator("textarea[name=metadata]").fill('{"by": "ui"}')
    form.get_by_role("button", name="Create cron").click()
    mine = [
        c for c in api.post("/runs/crons/search", json={}).json() if c["metadata"] == {"by": "ui"}
    ]
    row = studio.page.locator(f'tr[data-cron="{mine[0]["cron_id"]}"]')
    expect(row).to_contain_text("17 3 * * *")
    next_run = row.locator(".next-run time")
    expect(next_run).to_have_attribute("datetime", mine[0]["next_run_date"])
    studio.shot("crons")

    form.locator("input[name=schedule]").fill("every day at noon")
    form.get_by_role("button", name="Create cron").click()
    refused = api.post("/runs/crons", json={"assistant_id": chat, "schedule": "every day at noon"})
    assert refused.status_code == 422
    expect(form.get_by_role("alert")).to_have_text(f"{refused.json()['detail']} (HTTP 422)")

    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(row).to_have_count(0)
    assert api.get(f"/runs/crons/{mine[0]['cron_id']}").status_code == 404
