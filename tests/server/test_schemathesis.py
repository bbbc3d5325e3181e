"""Property-based fuzzing of every operation in our own /openapi.json (schemathesis):
no input may produce a 5xx, and every response must match the schema the server
publishes for it, on both backends. A bounded number of examples per operation keeps each
run to about a minute (the coverage phase on one backend); GRAPHDOCK_FUZZ_EXAMPLES raises it for a deeper search.
test_nasty_inputs.py walks every field with the values schemathesis rarely draws (integers
beyond 64 bits, NUL, lone surrogates, deep and wide JSON)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.support.server import ServerProcess

EXAMPLES = os.environ.get("GRAPHDOCK_FUZZ_EXAMPLES", "6")
AUTH_APP = Path(__file__).resolve().parents[1] / "app_auth" / "langgraph.json"


def fuzz(server: ServerProcess, cwd: Path, *extra: str) -> None:
    pytest.importorskip("schemathesis")
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is a dev dependency (pip install -e '.[dev]')"
    try:
        proc = subprocess.run(
            [
                cli,
                "run",
                server.url + "/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--workers",
                "4",  # more threads wait better, but past 4 CPython 3.11 trips on gh-106905 in ast
                "--request-timeout",
                "30",
                "--seed",
                "20261124",
                "--no-color",
                "--suppress-health-check",
                "all",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=540,
            cwd=cwd,
        )
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert "Traceback" not in server.log(), server.log()[-5000:]


# Random cases on both backends. The coverage phase (every boundary of every field, about
# 5,000 cases, the same on either backend) runs on SQLite only: what the backends store
# differently is walked on both by test_nasty_inputs.py. One schemathesis run per phase:
# run apart, the phases take half the time they take in one run, and the workers share them.
PHASES = [("sqlite", "coverage"), *((backend, "fuzzing") for backend in BACKENDS)]


@pytest.mark.long
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("backend", "phase"), PHASES, ids=["-".join(p) for p in PHASES])
def test_no_5xx_and_no_schema_violation(tmp_path, backend, phase):
    server = ServerProcess(tmp_path / "data", backend=backend).start()
    try:
        fuzz(server, tmp_path, "--phases", phase, "--max-examples", EXAMPLES)
    finally:
        server.cleanup()


@pytest.mark.long
@pytest.mark.timeout(600)
def test_no_5xx_through_the_auth_handlers(tmp_path):
    """The same with custom auth on: every body and query goes through the handlers."""
    server = ServerProcess(tmp_path / "data", AUTH_APP).start()
    fuzz(server, tmp_path, "--phases", "fuzzing", "--max-examples", "4",
         "--header", "Authorization: Bearer tok-alice")  # fmt: skip
