"""The same assistant and thread calls against graphdock and the reference server (`langgraph
dev`, a test oracle only): statuses, JSON key sets in order and value types must match, with
ids and timestamps masked. Graph drawings and schemas must match exactly.

The oracle is the `langgraph` CLI of a separate virtualenv: $GRAPHDOCK_ORACLE, by default
.venv-oracle/bin/langgraph. Without it these tests skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.server import ROOT, free_port

ORACLE = Path(os.environ.get("GRAPHDOCK_ORACLE") or ROOT / ".venv-oracle" / "bin" / "langgraph")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
HI = {"messages": [{"role": "user", "content": "hi"}]}

# Where graphdock differs on purpose (README "Deliberate differences"), or where another
# component decides the value: (label pattern, JSON path pattern) -> why.
KNOWN = {
    (r"^latest", r"^\.context"): "set_latest restores the whole version, context included",
    (r"^(get after latest|search)", r"\.context$"): "set_latest restores the whole version",
    (r"^copy", r"^$"): "the copy carries the source's values, error and interrupts",
    (r"^422 ", r"^\.detail$"): "422 messages name the field in our own words",
    (r".", r"\.metadata\.?"): "checkpoint metadata is the run executor's (issue 3)",
    (
        r"after run|^search",
        r"\.config",
    ): "a thread's config after a run is the run service's (issue 3)",
}


USER_JSON = re.compile(r"\.(config|context|metadata|values|result|value|kwargs)(\.|\[|$)")


def known(label: str, path: str) -> bool:
    return any(re.search(lp, label) and re.search(pp, path) for lp, pp in KNOWN)


@pytest.fixture(scope="session")
def oracle_url(tmp_path_factory):
    """The reference server serving a copy of tests/app, started once per session."""
    if not ORACLE.exists():
        pytest.skip(f"reference server not installed: {ORACLE} is missing (set GRAPHDOCK_ORACLE)")
    workdir = tmp_path_factory.mktemp("oracle-app")
    shutil.copytree(ROOT / "tests" / "app", workdir, dirs_exist_ok=True)
    port = free_port()
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_API_KEY": ""}
    log = open(workdir / "oracle.log", "wb")
    proc = subprocess.Popen(
        [
            str(ORACLE),
            "dev",
            "--no-browser",
            "--no-reload",
            "--port",
            str(port),
            "--n-jobs-per-worker",
            "10",
        ],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.skip(
                    f"reference server exited with {proc.returncode}; see {workdir}/oracle.log"
                )
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.skip("reference server did not start within 120 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Recorder:
    """Plays calls against one server and keeps (label, status, body, pagination headers)."""

    def __init__(self, base: str):
        self.client = httpx.Client(base_url=base, timeout=60)
        self.seen: list[tuple[str, int, object, list[str]]] = []
        self.tag = uuid.uuid4().hex

    def __call__(self, label: str, method: str, path: str, body=None, **kwargs):
        r = self.client.request(method, path, json=body, **kwargs)
        data = r.json() if r.content else None
        pages = sorted(k for k in r.headers if k.startswith("x-pagination"))
        self.seen.append((label, r.status_code, data, pages))
        return data


def assistant_calls(rec: Recorder) -> None:
    tag = {"tag": rec.tag}
    a = rec(
        "create full",
        "POST",
        "/assistants",
        {
            "graph_id": "agent",
            "config": {"tags": ["t"], "recursion_limit": 9, "configurable": {"x": 1}},
            "metadata": tag,
            "name": "n",
            "description": "d",
        },
    )
    aid = a["assistant_id"]
    rec(
        "create ctx",
        "POST",
        "/assistants",
        {"graph_id": "schemas", "context": {"model_name": "m"}, "metadata": tag},
    )
    rec("create minimal", "POST", "/assistants", {"graph_id": "agent", "metadata": tag})
    rec(
        "400 both",
        "POST",
        "/assistants",
        {"graph_id": "agent", "config": {"configurable": {"x": 1}}, "context": {"y": 1}},
    )
    rec("404 graph", "POST", "/assistants", {"graph_id": "nope"})
    rec("409 exists", "POST", "/assistants", {"graph_id": "agent", "assistant_id": aid})
    rec(
        "do_nothing",
        "POST",
        "/assistants",
        {"graph_id": "agent", "assistant_id": aid, "if_exists": "do_nothing"},
    )
    rec("422 graph_id", "POST", "/assistants", {"graph_id": 5})
    rec("422 name null", "POST", "/assistants", {"graph_id": "agent", "name": None})
    rec("get", "GET", f"/assistants/{aid}")
    rec("get graph name", "GET", "/assistants/agent")
    rec("get unknown", "GET", f"/assistants/{uuid.uuid4()}")
    rec(
        "patch",
        "PATCH",
        f"/assistants/{aid}",
        {"metadata": {"v": 2}, "config": {"configurable": {"x": 2}}},
    )
    rec("patch tags only", "PATCH", f"/assistants/{aid}", {"config": {"tags": ["z"]}})
    rec("patch context", "PATCH", f"/assistants/{aid}", {"context": {"y": 3}})
    rec("422 patch null", "PATCH", f"/assistants/{aid}", {"metadata": None})
    rec("patch unknown", "PATCH", f"/assistants/{uuid.uuid4()}", {"name": "x"})
    rec("versions", "POST", f"/assistants/{aid}/versions", {})
    rec(
        "versions filtered",
        "POST",
        f"/assistants/{aid}/versions",
        {"metadata": {"v": 2}, "limit": 1},
    )
    rec("latest", "POST", f"/assistants/{aid}/latest", {"version": 1})
    rec("get after latest", "GET", f"/assistants/{aid}")
    rec("latest 99", "POST", f"/assistants/{aid}/latest", {"version": 99})
    rec("search", "POST", "/assistants/search", {"metadata": tag, "limit": 2})
    rec(
        "search last page", "POST", "/assistants/search", {"metadata": tag, "limit": 2, "offset": 2}
    )
    rec(
        "search select",
        "POST",
        "/assistants/search",
        {
            "metadata": tag,
            "select": ["assistant_id", "name"],
            "sort_by": "name",
            "sort_order": "asc",
        },
    )
    rec(
        "search system",
        "POST",
        "/assistants/search",
        {"graph_id": "hitl", "metadata": {"created_by": "system"}},
    )
    rec("count", "POST", "/assistants/count", {"metadata": tag})
    rec("graph xray bogus", "GET", "/assistants/parent/graph?xray=bogus")
    rec("graph xray 0", "GET", "/assistants/parent/graph?xray=0")
    rec("schemas by name", "GET", "/assistants/agent/schemas")
    rec("delete", "DELETE", f"/assistants/{aid}")
    rec("delete again", "DELETE", f"/assistants/{aid}")


def thread_calls(rec: Recorder) -> None:
    tag = {"tag": rec.tag}
    t = rec("create", "POST", "/threads", {"metadata": tag})
    tid = t["thread_id"]
    fixed = str(uuid.uuid4())
    rec("create fixed", "POST", "/threads", {"thread_id": fixed, "metadata": tag})
    rec("409 fixed", "POST", "/threads", {"thread_id": fixed})
    rec("do_nothing", "POST", "/threads", {"thread_id": fixed, "if_exists": "do_nothing"})
    rec("422 bad id", "POST", "/threads", {"thread_id": "nope"})
    rec("create ttl", "POST", "/threads", {"ttl": {"strategy": "delete", "ttl": 5}})
    ss = [
        {
            "updates": [
                {
                    "values": {"messages": [{"role": "user", "content": "x"}], "count": 5},
                    "as_node": "a",
                }
            ]
        },
        {"updates": [{"values": {"count": 6}, "as_node": "b"}]},
    ]
    rec(
        "supersteps",
        "POST",
        "/threads",
        {"metadata": {"graph_id": "agent", **tag}, "supersteps": ss},
    )
    rec("201 supersteps without graph", "POST", "/threads", {"supersteps": ss})
    rec(
        "400 superstep node",
        "POST",
        "/threads",
        {
            "metadata": {"graph_id": "agent"},
            "supersteps": [{"updates": [{"values": {}, "as_node": "zz"}]}],
        },
    )
    rec("state empty", "GET", f"/threads/{tid}/state")
    rec("history empty", "POST", f"/threads/{tid}/history", {})
    rec("wait", "POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "input": HI})
    rec("get after run", "GET", f"/threads/{tid}")
    rec("patch after run", "PATCH", f"/threads/{tid}", {"metadata": {"k": "v"}})
    rec(
        "patch minimal",
        "PATCH",
        f"/threads/{tid}",
        {"metadata": {"k2": "v"}},
        headers={"Prefer": "return=minimal"},
    )
    rec("patch unknown", "PATCH", f"/threads/{uuid.uuid4()}", {"metadata": {}})
    rec("state", "GET", f"/threads/{tid}/state")
    history = rec("history", "POST", f"/threads/{tid}/history", {"limit": 10})
    newest, middle = history[0]["checkpoint_id"], history[1]["checkpoint_id"]
    rec("history default", "POST", f"/threads/{tid}/history", {})
    rec("history get", "GET", f"/threads/{tid}/history?limit=2")
    rec(
        "history before",
        "POST",
        f"/threads/{tid}/history",
        {"limit": 10, "before": {"configurable": {"checkpoint_id": newest}}},
    )
    rec(
        "history metadata",
        "POST",
        f"/threads/{tid}/history",
        {"limit": 10, "metadata": {"step": 1}},
    )
    rec("422 history limit", "GET", f"/threads/{tid}/history?limit=abc")
    rec("state at", "GET", f"/threads/{tid}/state/{middle}")
    rec(
        "state at post",
        "POST",
        f"/threads/{tid}/state/checkpoint",
        {"checkpoint": {"checkpoint_id": middle}},
    )
    rec("state at unknown", "GET", f"/threads/{tid}/state/{uuid.uuid4()}")
    rec("update", "POST", f"/threads/{tid}/state", {"values": {"count": 100}})
    rec("update as a", "POST", f"/threads/{tid}/state", {"values": {"count": 1}, "as_node": "a"})
    rec("get after run and update", "GET", f"/threads/{tid}")
    rec(
        "400 update node",
        "POST",
        f"/threads/{tid}/state",
        {"values": {"count": 1}, "as_node": "nope"},
    )
    rec("400 update no graph", "POST", f"/threads/{fixed}/state", {"values": {"count": 1}})
    rec(
        "search",
        "POST",
        "/threads/search",
        {
            "metadata": tag,
            "select": ["thread_id", "status", "values"],
            "extract": {"c": "values.count", "m": "values.messages[-1].content"},
        },
    )
    rec("search page", "POST", "/threads/search", {"metadata": tag, "limit": 1})
    rec("400 search ids", "POST", "/threads/search", {"ids": ["nope"]})
    rec("422 search extract", "POST", "/threads/search", {"extract": {"s": "status"}})
    rec("count", "POST", "/threads/count", {"metadata": tag})
    rec("count status", "POST", "/threads/count", {"metadata": tag, "status": "interrupted"})
    rec("copy", "POST", f"/threads/{tid}/copy")
    rec("copy unknown", "POST", f"/threads/{uuid.uuid4()}/copy")
    rec("prune", "POST", "/threads/prune", {"thread_ids": [fixed, str(uuid.uuid4())]})
    rec("delete", "DELETE", f"/threads/{tid}")
    rec("delete again", "DELETE", f"/threads/{tid}")


def mask(value):
    """Ids and timestamps differ between servers by nature; everything else must not."""
    if isinstance(value, dict):
        return {UUID.sub("<id>", k): mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return "<ts>" if TIMESTAMP.match(value) else UUID.sub("<id>", value)
    return value


def differences(label: str, ours, theirs, path: str = "") -> list[str]:
    if known(label, path):
        return []
    if type(ours) is not type(theirs):
        return [
            f"{label} {path or '.'}: {type(theirs).__name__} in the reference, {type(ours).__name__} here"
        ]
    if isinstance(ours, dict):
        out = []
        # Key order counts for the API's own objects; JSON the client stored (config, values,
        # metadata...) may come back reordered (Postgres JSONB does), so only its keys count.
        same = (
            list(ours) == list(theirs) if not USER_JSON.search(path) else set(ours) == set(theirs)
        )
        if not same:
            out.append(
                f"{label} {path or '.'}: keys {list(theirs)} in the reference, {list(ours)} here"
            )
        for key in ours.keys() & theirs.keys():
            out += differences(label, ours[key], theirs[key], f"{path}.{key}")
        return out
    if isinstance(ours, list):
        out = (
            []
            if len(ours) == len(theirs)
            else [f"{label} {path}: {len(theirs)} items in the reference, {len(ours)} here"]
        )
        for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            out += differences(label, a, b, f"{path}[{i}]")
        return out
    if path.endswith(".detail") and ours != theirs:
        return [f"{label} {path}: {theirs!r} in the reference, {ours!r} here"]
    return []


# Statuses graphdock answers differently on purpose (README "Deliberate differences").
KNOWN_STATUS = {"copy unknown": (404, 409)}  # label -> (ours, the reference's)


def compare(ours: Recorder, theirs: Recorder) -> list[str]:
    problems = []
    for (label, s1, b1, p1), (_, s2, b2, p2) in zip(ours.seen, theirs.seen, strict=True):
        if KNOWN_STATUS.get(label) == (s1, s2):
            continue
        if s1 != s2:
            problems.append(f"{label}: status {s2} in the reference, {s1} here")
            continue
        if p1 != p2:
            problems.append(f"{label}: pagination headers {p2} in the reference, {p1} here")
        problems += differences(label, mask(b1), mask(b2))
    return problems


GRAPH_VIEWS = ["/schemas", "/graph", "/graph?xray=true", "/graph?xray=2", "/subgraphs",
               "/subgraphs?recurse=true", "/subgraphs/child"]  # fmt: skip
DRAWN = ["agent", "parent", "hitl", "chat", "schemas", "parentchat", "parenthitl", "factory"]
# a `typing.TypedDict` state on Python 3.11: the reference cannot describe it (its schemas are
# null), graphdock does (README "Deliberate differences"); everything else must be equal
DESCRIBED_HERE_ONLY = {("agent", "/schemas")}
SCHEMA_KEYS = ("input_schema", "output_schema")


def graph_view_differences(ours: str, theirs: str) -> list[str]:
    """Drawings and schemas are deterministic: they must be equal, not just alike."""
    from graphdock.server.services.graphs import system_assistant_id

    problems = []
    for graph_id in DRAWN:
        for view in GRAPH_VIEWS:
            path = f"/assistants/{system_assistant_id(graph_id)}{view}"
            a, b = httpx.get(ours + path, timeout=30), httpx.get(theirs + path, timeout=30)
            mine = a.json()
            if (graph_id, view) in DESCRIBED_HERE_ONLY and all(
                isinstance(mine.get(k), dict) and b.json().get(k) is None for k in SCHEMA_KEYS
            ):
                mine = {**mine, **dict.fromkeys(SCHEMA_KEYS)}
            if (a.status_code, mine) != (b.status_code, b.json()):
                problems.append(f"{graph_id}{view}: differs from the reference")
    return problems


def test_same_calls_same_shapes(graphdock_server, oracle_url):
    """One test (per backend), so a parallel run starts few oracles."""
    problems = []
    for calls in (assistant_calls, thread_calls):
        ours, theirs = Recorder(graphdock_server), Recorder(oracle_url)
        calls(ours)
        calls(theirs)
        assert len(ours.seen) == len(theirs.seen)
        problems += compare(ours, theirs)
    problems += graph_view_differences(graphdock_server, oracle_url)
    assert not problems, "\n".join(problems)
