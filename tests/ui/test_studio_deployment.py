"""graphdock Studio against a server set up as a team would deploy it: `graphdock serve` with
API keys and a store index (semantic search), serving the bundled examples (and, for the
cancel test, a graph that takes its time). The UI asks for a key, keeps it for the tab's
session, and sends it on every API call; its own files need none."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import open_studio
from tests.support.server import ROOT, ServerProcess

pytestmark = pytest.mark.xdist_group("ui-deployment")

KEY = "studio-key-" + uuid.uuid4().hex[:8]
EXAMPLES = ROOT / "examples"
TEST_APP = ROOT / "tests" / "app"
SIGNED_IN = (
    "sessionStorage.setItem('graphdock.credentials', "
    + json.dumps(json.dumps({"kind": "api-key", "value": KEY}))
    + ")"
)


def deployment_config(folder) -> object:
    """The examples' graphs (absolute paths), a slow test graph, and a store index."""
    examples = json.loads((EXAMPLES / "langgraph.json").read_text())
    graphs = {
        name: {**spec, "path": str(EXAMPLES / spec["path"].removeprefix("./"))}
        for name, spec in examples["graphs"].items()
    }
    graphs["slow"] = f"{TEST_APP / 'graphs.py'}:slow"
    config = {
        "dependencies": [str(EXAMPLES), str(TEST_APP)],
        "graphs": graphs,
        "store": {
            "index": {"embed": f"{TEST_APP / 'embed.py'}:embed", "dims": 16, "fields": ["text"]}
        },
    }
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deployment")
    server = ServerProcess(
        folder, config=deployment_config(folder), env={"GRAPHDOCK_API_KEYS": KEY}
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server.url, headers={"x-api-key": KEY}, timeout=30) as client:
        yield client


@pytest.fixture
def signed_in(browser, server, screenshot_dir):
    """The UI in a tab whose session already holds the key."""
    yield from open_studio(browser, server, screenshot_dir, init_script=SIGNED_IN)


def test_the_ui_needs_no_key_but_the_api_does(server):
    assert httpx.get(server.url + "/ui/").status_code == 200
    assert httpx.get(server.url + "/ui/threads/anything").status_code == 200
    assert httpx.post(server.url + "/threads/search", json={}).status_code == 401
    # `serve` keeps `/` as it was (like /ok): only `dev` sends it to the UI
    assert httpx.get(server.url + "/", follow_redirects=False).json() == {
        "ok": True,
        "services": {},
    }
    assert f"UI:    {server.url}/ui" in server.log()


def test_the_ui_asks_for_a_key_and_then_works(studio, api):
    studio.goto("/ui/assistants")
    dialog = studio.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Missing API key")
    studio.shot("auth")

    dialog.locator("input[name=credential]").fill("not-the-key")
    dialog.get_by_role("button", name="Use these credentials").click()
    expect(dialog).to_contain_text("Invalid API key")
    dialog.locator("input[name=credential]").fill(KEY)
    dialog.get_by_role("button", name="Use these credentials").click()
    expect(dialog).to_have_count(0)
    names = [a["name"] for a in api.post("/assistants/search", json={"limit": 100}).json()]
    rows = studio.page.locator("main table tbody tr")
    expect(rows).to_have_count(len(names))
    expect(rows.get_by_role("link", name="research", exact=True)).to_be_visible()

    # the key went with the API calls after it was given, and never with the UI's own files
    searches = studio.requests.api_calls("/assistants/search")
    assert searches[-1][2].get("x-api-key") == KEY
    assets = studio.requests.api_calls("/ui/")
    assert assets and all("x-api-key" not in headers for _, _, headers, _ in assets)

    # kept for the tab's session: a reload asks nothing
    studio.page.reload()
    expect(rows).to_have_count(len(names))
    expect(dialog).to_have_count(0)
    studio.page.get_by_role("button", name="Forget credentials").click()
    studio.page.reload()
    expect(dialog).to_contain_text("Missing API key")


def test_semantic_search_finds_an_item_by_meaning(signed_in, api):
    namespace = ["notes", uuid.uuid4().hex[:8]]
    for key, text in [
        ("bees", "bees make honey in their hives"),
        ("markets", "the stock market fell sharply today"),
        ("rain", "rain is expected over the weekend"),
    ]:
        r = api.put(
            "/store/items", json={"namespace": namespace, "key": key, "value": {"text": text}}
        )
        assert r.status_code == 204, r.text
    query = "bees honey hives"
    expected = api.post(
        "/store/items/search", json={"namespace_prefix": namespace, "query": query}
    ).json()["items"]
    assert expected[0]["key"] == "bees" and expected[0]["score"] is not None

    signed_in.goto("/ui/store")
    search = signed_in.page.get_by_role("form", name="Search the store")
    search.locator("input[name=namespace]").fill(".".join(namespace))
    search.locator("input[name=query]").fill(query)
    search.get_by_role("button", name="Search").click()
    items = signed_in.page.get_by_label("Items").locator(".item")
    expect(items).to_have_count(len(expected))
    expect(items.first).to_have_attribute("data-key", "bees")
    expect(items.first.locator(".badge")).to_have_text(f"score {expected[0]['score']:.3f}")
    expect(signed_in.page).to_have_url(re.compile("q=bees"))
    signed_in.shot("store-search")


def test_a_running_run_is_cancelled(signed_in, api):
    slow = api.post("/assistants/search", json={"graph_id": "slow"}).json()[0]["assistant_id"]
    signed_in.goto(f"/ui/run?assistant={slow}")
    signed_in.page.locator("input[name=sleep]").fill("120")
    signed_in.page.get_by_role("button", name="Start run").click()
    state = signed_in.page.locator(".run-state")
    expect(state).to_contain_text("run ")  # the run's id came in the stream's metadata
    thread_id = re.search(r"thread=([0-9a-f-]+)", signed_in.page.url)[1]
    signed_in.page.get_by_role("button", name="Cancel run").click()
    expect(state.locator(".status").first).to_have_text("interrupted")
    (run,) = api.get(f"/threads/{thread_id}/runs").json()
    assert run["status"] == "interrupted"
