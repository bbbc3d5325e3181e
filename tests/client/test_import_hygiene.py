"""Importing the client must not drag in the server stack."""

import subprocess
import sys

HEAVY = ("langgraph", "langchain_core", "fastapi", "starlette", "sqlalchemy", "uvicorn")


def test_importing_client_loads_no_server_dependencies():
    code = (
        "import sys, graphdock, graphdock.client\n"
        "from graphdock import get_client, get_sync_client\n"
        "from graphdock.client import errors, schema\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_top_level_exports():
    import graphdock
    from graphdock import get_client, get_sync_client

    assert graphdock.__version__
    assert get_client is graphdock.client.get_client
    assert get_sync_client is graphdock.client.get_sync_client
