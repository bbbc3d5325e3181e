"""Bad input gets a clear 4xx with `{"detail": ...}`, never a 500 or a hang; a graph that
raises, hangs past its timeout or returns what JSON cannot encode ends its own run only."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

HARDENING_APP = Path(__file__).resolve().parents[1] / "app_auth" / "langgraph_hardening.json"


@pytest.fixture
def http(graphdock_server):
    with httpx.Client(base_url=graphdock_server, timeout=30) as client:
        yield client


def detail_of(response: httpx.Response, status: int | tuple[int, ...]) -> str:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), body
    return body["detail"]


def test_malformed_json(http):
    for raw in (b"{", b"{'a': 1}", b"[1,", b'{"metadata": NaN}', b"\xff\xfe", b'{"a": "\\ud800"}'):
        response = http.post("/threads", content=raw, headers={"content-type": "application/json"})
        assert detail_of(response, 422) == "Invalid JSON in request body", raw


def test_wrong_types(http):
    detail = detail_of(http.post("/threads", json={"metadata": 5}), 422)
    assert "metadata" in detail
    detail_of(http.post("/threads/search", json={"limit": "ten"}), 422)
    detail_of(http.post("/threads/search", json={"limit": -1}), 422)
    detail_of(http.post("/assistants", json={"graph_id": ["agent"]}), 422)
    detail_of(http.post("/threads", json=[1, 2]), 422)


def test_huge_numbers(http):
    detail_of(http.post("/threads", json={"ttl": {"ttl": 1e300}}), (400, 422))
    detail_of(http.post("/threads/search", json={"offset": 10**30}), 422)
    detail_of(
        http.put("/store/items", json={"namespace": ["n"], "key": "k", "value": {}, "ttl": 1e300}),
        (400, 422),
    )


def test_huge_body_is_413(http):
    blob = "x" * (10 * 1024 * 1024 + 10)
    response = http.post(
        "/threads",
        content=b'{"metadata": {"b": "' + blob.encode() + b'"}}',
        headers={"content-type": "application/json"},
    )
    assert "too large" in detail_of(response, 413)


def test_deeply_nested_body(http):
    deep: dict = {}
    node = deep
    for _ in range(500):
        node["a"] = {}
        node = node["a"]
    assert "nested too deeply" in detail_of(http.post("/threads", json={"metadata": deep}), 422)
    shallow = {"a": {"b": {"c": [1, [2, [3]]]}}}
    assert http.post("/threads", json={"metadata": shallow}).status_code == 200


def test_bad_and_traversing_ids(http):
    for bad in (
        "not-a-uuid",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "1" * 500,
        "'; DROP TABLE threads; --",
    ):
        for path in (
            f"/threads/{bad}",
            f"/assistants/{bad}",
            f"/runs/crons/{bad}",
            f"/threads/{bad}/runs/{uuid.uuid4()}",
        ):
            response = http.get(path)
            assert response.status_code in (404, 422), (path, response.status_code)
            assert isinstance(response.json()["detail"], str)
    response = http.get("/threads/../../etc/passwd")
    assert response.status_code in (404, 422)


def test_unknown_graph_ids(http):
    detail = detail_of(http.post("/assistants", json={"graph_id": "no-such-graph"}), 404)
    assert "no-such-graph" in detail
    detail_of(http.post("/runs/wait", json={"assistant_id": "no-such-graph", "input": {}}), 422)
    detail_of(
        http.post("/runs/crons", json={"assistant_id": "no-such-graph", "schedule": "* * * * *"}),
        (404, 422),
    )


def test_invalid_cron_expressions_and_time_zones(http):
    for schedule in ("bogus", "* * *", "61 * * * *", "", "* * * * * * * *"):
        body = {"assistant_id": "agent", "schedule": schedule}
        detail_of(http.post("/runs/crons", json=body), 422)
    body = {"assistant_id": "agent", "schedule": "* * * * *", "timezone": "Mars/Olympus_Mons"}
    detail_of(http.post("/runs/crons", json=body), 422)
    body = {"assistant_id": "agent", "schedule": "* * * * *", "timezone": "../../etc/localtime"}
    detail_of(http.post("/runs/crons", json=body), 422)


def test_namespace_labels_with_dots(http):
    put = http.put("/store/items", json={"namespace": ["a.b"], "key": "k", "value": {}})
    assert put.status_code == 422
    assert http.put(
        "/store/items", json={"namespace": [], "key": "k", "value": {}}
    ).status_code in (400, 422)
    search = http.post("/store/items/search", json={"namespace_prefix": ["x.y"]})
    assert search.status_code == 422


def test_unknown_routes_and_methods(http):
    assert detail_of(http.get("/no/such/route"), 404) == "Not Found"
    assert detail_of(http.put("/threads/search", json={}), 405) == "Method Not Allowed"


def test_misbehaving_graphs_end_their_own_runs(server_process):
    server = server_process(config=HARDENING_APP)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        # returns what JSON cannot encode: the run still ends, the values in their string form
        tid = client.post("/threads", json={}).json()["thread_id"]
        result = client.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": "unencodable", "input": {}}
        )
        assert result.status_code == 200
        [run] = client.get(f"/threads/{tid}/runs").json()
        assert run["status"] in ("success", "error")
        assert client.get(f"/threads/{tid}/state").status_code == 200

        # raises: the run is `error`, the exception is in the body, the server goes on
        tid = client.post("/threads", json={}).json()["thread_id"]
        result = client.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": "boom", "input": {}}
        )
        assert result.json()["__error__"]["message"] == "graph failed on purpose"
        assert client.get(f"/threads/{tid}/runs").json()[0]["status"] == "error"

        # hangs past BG_JOB_TIMEOUT_SECS (2 s): that run times out, another runs meanwhile
        hung = client.post("/threads", json={}).json()["thread_id"]
        client.post(f"/threads/{hung}/runs", json={"assistant_id": "hang", "input": {}})
        ok = client.post("/runs/wait", json={"assistant_id": "agent", "input": {"messages": []}})
        assert ok.status_code == 200 and "__error__" not in ok.json()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [run] = client.get(f"/threads/{hung}/runs").json()
            if run["status"] not in ("pending", "running"):
                break
            time.sleep(0.2)
        assert run["status"] == "timeout"
        assert client.get("/ok").status_code == 200
    assert "Traceback" not in server.log() or "graph failed on purpose" in server.log()
