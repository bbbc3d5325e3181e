"""The typing check can fail: mypy refuses each misuse marked in `typing_cases.py`.

`make lint` shows that `typed_usage.py` (every method of both clients) type-checks; this shows
the same check catches a wrong annotation, an `await` on the sync client, a missing `await`,
an unknown parameter, and the wrong form of an overloaded endpoint. It also runs the
context-manager endpoint example there, so that extension path is proven at run time too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from graphdock.client._transport import AsyncTransport, SyncTransport
from tests.client import typing_cases

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(typing_cases.__file__).relative_to(ROOT)
MARK = re.compile(r"#\s*E:\s*(?P<codes>[\w\-, ]+)$")
ERROR = re.compile(r"^[^:]+:(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def expected_errors() -> set[tuple[int, str]]:
    marks = set()
    for number, line in enumerate((ROOT / CASES).read_text().splitlines(), start=1):
        if match := MARK.search(line):
            marks |= {(number, code.strip()) for code in match["codes"].split(",")}
    return marks


def reported_errors() -> set[tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(CASES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr or result.stdout  # 2: mypy itself failed
    lines = result.stdout.splitlines()
    elsewhere = [line for line in lines if ": error:" in line and not line.startswith(str(CASES))]
    assert elsewhere == [], "the client itself does not type-check"
    return {(int(m["line"]), m["code"]) for line in lines if (m := ERROR.match(line))}


def test_mypy_reports_exactly_the_marked_misuses():
    expected = expected_errors()
    assert len(expected) >= 10  # the cases file really has cases
    reported = reported_errors()
    assert reported - expected == set(), "correct code failed to type-check"
    assert expected - reported == set(), "mypy accepted a marked misuse"


async def test_an_endpoint_can_give_context_managers():
    async with httpx.AsyncClient() as aio:
        with httpx.Client() as sync:
            sessions = typing_cases.Sessions(AsyncTransport(aio))
            sync_sessions = typing_cases.SyncSessions(SyncTransport(sync))
            assert await typing_cases.open_sessions(sessions, sync_sessions) == [
                "async a",
                "sync b",
            ]
