"""graphdock Studio on a server with custom auth (tests/app_auth: bearer tokens, every
resource owned by its user): the UI asks for a token, sends it as `Authorization: Bearer`,
shows each user only what is theirs, and shows a refusal (403) as the API's detail."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import open_studio
from tests.support.server import ROOT, ServerProcess

pytestmark = pytest.mark.xdist_group("ui-custom-auth")


def bearer(token: str) -> str:
    """An init script: the tab's session already holds this bearer token."""
    credentials = json.dumps({"kind": "bearer", "value": token})
    return f"sessionStorage.setItem('graphdock.credentials', {json.dumps(credentials)})"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = ROOT / "tests" / "app_auth" / "langgraph.json"
    server = ServerProcess(tmp_path_factory.mktemp("custom-auth"), config=config)
    server.start()
    yield server
    server.stop()


def make_thread(server, token: str, marker: str) -> str:
    r = httpx.post(
        server.url + "/threads",
        json={"metadata": {"ui_test": marker}},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()["thread_id"]


def test_a_bearer_token_is_asked_for_and_each_user_sees_their_own(studio, server):
    marker = uuid.uuid4().hex
    alices = make_thread(server, "tok-alice", marker)
    bobs = make_thread(server, "tok-bob", marker)
    studio.goto(f"/ui/threads?metadata={json.dumps({'ui_test': marker})}")
    dialog = studio.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Missing token")
    dialog.get_by_label("Bearer token (Authorization)").check()
    dialog.locator("input[name=credential]").fill("tok-alice")
    dialog.get_by_role("button", name="Use these credentials").click()
    rows = studio.page.locator("table[aria-label=Threads] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-thread", alices)
    assert studio.page.locator(f'tr[data-thread="{bobs}"]').count() == 0
    (*_, (_, _, headers, _)) = studio.requests.api_calls("/threads/search")
    assert headers.get("authorization") == "Bearer tok-alice"
    assert "x-api-key" not in headers


@pytest.fixture
def carol(browser, server, screenshot_dir):
    """The UI in a tab signed in as carol, who may read but not write."""
    yield from open_studio(browser, server, screenshot_dir, init_script=bearer("tok-carol"))


def test_a_refusal_shows_the_api_detail_without_asking_again(carol):
    carol.goto("/ui/threads")
    expect(carol.page.get_by_label("Thread counts")).to_contain_text("all 0")
    create = carol.page.get_by_role("form", name="Create a thread")
    create.get_by_role("button", name="Create thread").click()
    expect(create.get_by_role("alert")).to_have_text("read-only user (HTTP 403)")
    expect(carol.page.get_by_role("dialog")).to_have_count(0)
