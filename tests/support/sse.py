"""Reading raw SSE bytes, and masking what differs run to run (ids, uuids, timestamps)."""

from __future__ import annotations

import re

import httpx

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32 = re.compile(r'"[0-9a-f]{32}"')


def parse(raw: bytes) -> list[dict]:
    """Events as dicts of their fields; comments (heartbeats) are dropped."""
    events = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields:
            events.append(fields)
    return events


def mask(text: str) -> str:
    return HEX32.sub('"<hex>"', UUID.sub("<uuid>", text))


def without_ids(raw: bytes) -> str:
    """The stream as the reference captures show it: LF line ends, no id lines, ids masked."""
    text = raw.decode().replace("\r\n", "\n")
    text = "\n".join(line for line in text.split("\n") if not line.startswith("id: "))
    return mask(text)


def stream(
    base_url: str,
    path: str,
    body: dict | None = None,
    headers: dict | None = None,
    method: str = "POST",
) -> bytes:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        with client.stream(method, path, json=body, headers=headers) as response:
            assert response.status_code == 200, response.read()
            return response.read()
