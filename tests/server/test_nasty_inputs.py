"""Every operation of /openapi.json, with every field of its body, its query and its path
made nasty in turn: integers of any size, NUL and lone surrogates in strings, numbers past
a double, deep and wide JSON. Not one may answer 5xx, and every refusal is JSON that says
what was wrong. Both backends: each stores what the other refuses.

Schemathesis (test_schemathesis.py) explores the schema at random; this walks it whole
with the values that broke servers before.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.support.server import ServerProcess

DEEP = "[" * 200 + "]" * 200
WIDE = "{" + ",".join(f'"k{i}": {i}' for i in range(5000)) + "}"
# Raw JSON text: some of these (a lone surrogate, 1e400) have no Python value to dump.
NASTY_JSON = [
    str(2**70),
    str(-(2**70)),
    "1e400",
    '"nul\\u0000inside"',
    '"\\ud800 lone surrogate"',
    '"' + "x" * 100_000 + '"',
    '{"\\u0000key": 1}',
    '{"n": 123456789012345678901234567890}',
    DEEP,
    WIDE,
    "null",
    "[]",
    "{}",
    '""',
    "-1",
    "true",
]
NASTY_TEXT = ["\x00", "\ud800", "9" * 40, "-" + "9" * 40, "../../etc/passwd", "%", "a" * 5000]


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("nasty"), backend=request.param)
    yield process.start()
    process.cleanup()


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _body_properties(spec: dict, op: dict) -> tuple[dict, list[str]] | None:
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if not content:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return {}, []
    props = schema.get("properties") or {}
    return props, list(schema.get("required") or [])


def _fill_path(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: ids.get(m[1], str(uuid.uuid4())), path)


def _base_body(required: list[str], props: dict) -> dict[str, Any]:
    """A body with each required field given something plausible."""
    plausible: dict[str, Any] = {
        "assistant_id": "agent",
        "graph_id": "agent",
        "schedule": "0 0 * * *",
        "namespace": ["n"],
        "key": "k",
        "value": {"v": 1},
        "thread_ids": [],
        "as_node": "a",
        "updates": [],
        "checkpoint": {},
        "version": 1,
    }
    return {name: plausible.get(name, "x") for name in required}


def _check(response: httpx.Response, what: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{what}: {response.status_code} {response.text[:200]}")
    elif response.status_code >= 400:
        body = response.json()
        if not (isinstance(body, dict) and (body.get("detail") or body.get("error"))):
            failures.append(f"{what}: {response.status_code} without a detail: {body}")


GROUPS = ("assistants", "threads", "runs", "crons", "store", "other")


def _group(path: str) -> str:
    """Which test takes an operation: the suite runs the groups in parallel."""
    if "/crons" in path:
        return "crons"
    if "/runs" in path:
        return "runs"
    first = path.strip("/").split("/")[0]
    return first if first in GROUPS else "other"


async def _fuzz(http: httpx.AsyncClient, spec: dict, ids: dict, method: str, path: str, op: dict,
                failures: list[str]) -> int:  # fmt: skip
    """Sends the operation every nasty value in each field in turn; how many requests."""
    sent = 0
    url = _fill_path(path, ids)
    shape = _body_properties(spec, op)
    if shape is not None:
        props, required = shape
        base = _base_body(required, props)
        for name in props:
            for raw in NASTY_JSON:
                others = {k: v for k, v in base.items() if k != name}
                text = json.dumps(others)[:-1] + ("," if others else "")
                content = f'{text}"{name}": {raw}}}'
                response = await http.request(
                    method, url, content=content, headers={"content-type": "application/json"}
                )
                _check(response, f"{method} {path} {name}={raw[:40]}", failures)
                sent += 1
        for raw in NASTY_JSON:  # the body itself
            response = await http.request(
                method, url, content=raw, headers={"content-type": "application/json"}
            )
            _check(response, f"{method} {path} body={raw[:40]}", failures)
            sent += 1
    for param in op.get("parameters") or []:
        for text in NASTY_TEXT:
            encoded = quote(text.encode("utf-8", "surrogatepass"), safe="")
            if param["in"] == "query":
                target = f"{url}?{param['name']}={encoded}"
            elif param["in"] == "path":
                target = re.sub(r"\{" + param["name"] + r"(?::path)?\}", encoded, path)
                target = _fill_path(target, ids)
            else:
                continue
            body = json.dumps(_base_body(*reversed(shape))) if shape else None
            response = await http.request(
                method,
                target,
                content=body,
                headers={"content-type": "application/json"} if body else {},
            )
            _check(response, f"{method} {path} {param['name']}={text[:20]!r}", failures)
            sent += 1
    return sent


@pytest.mark.long
@pytest.mark.parametrize("group", GROUPS)
async def test_no_field_of_any_operation_gets_a_5xx(server, group):
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        spec = (await http.get("/openapi.json")).json()
        thread = (await http.post("/threads", json={})).json()["thread_id"]
        assistant = (await http.post("/assistants", json={"graph_id": "agent"})).json()
        ids = {"thread_id": thread, "assistant_id": assistant["assistant_id"]}
        operations = _operations(spec)
        assert len(operations) > 50
        mine = [
            (method, path, op)
            for method, path, op in operations
            # runs that stream or wait are fuzzed through /runs (same fields)
            if _group(path) == group
            and not (path.endswith(("/stream", "/wait")) or path == "/runs/batch")
        ]
        assert mine, f"no operation of /openapi.json is in the group {group!r}"
        failures: list[str] = []
        sent = 0
        for method, path, op in mine:
            sent += await _fuzz(http, spec, ids, method, path, op, failures)
        assert failures == []
        assert sent > 0
        # and the server is still well
        assert (await http.get("/ok")).status_code == 200
    assert "Traceback" not in server.log(), server.log()[-3000:]


def test_every_path_falls_in_a_group():
    assert _group("/threads/{thread_id}/runs/crons") == "crons"
    assert _group("/threads/{thread_id}/runs/{run_id}") == "runs"
    assert _group("/threads/{thread_id}/state") == "threads"
    assert _group("/mcp") == "other"
