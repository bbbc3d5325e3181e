"""Every Python example of the seed reference (SDK_REFERENCE.md), run against a live server.

Each example is copied verbatim; only `from langgraph_sdk import ...` became
`from graphdock import ...` (the Initialization example also imports `get_sync_client`,
which it uses without importing). The examples hard-code http://localhost:8123, so
`get_client`/`get_sync_client` are pointed at the server under test. Names the snippets take
from their surroundings (`client`, `thread`, `assistant`, `run`, `thread_id`, `assistant_id`)
are provided.
"""

from __future__ import annotations

import ast

import pytest

import graphdock.client
from graphdock.client import BadRequestError, NotFoundError

INITIALIZATION = """
from graphdock import get_client, get_sync_client

# Async client
client = get_client(url="http://localhost:8123")

# Sync client
client = get_sync_client(url="http://localhost:8123")
"""

ASSISTANTS = """
# Create an assistant
assistant = await client.assistants.create(
    graph_id="my_graph",
    name="Investment Analyzer",
    config={"configurable": {"model": "claude-3-7-sonnet"}}
)

# Get assistant details
assistant = await client.assistants.get(assistant["assistant_id"])

# Update assistant
await client.assistants.update(
    assistant["assistant_id"],
    config={"configurable": {"model": "claude-3-5-sonnet"}}
)

# Search assistants
assistants = await client.assistants.search(
    metadata={"type": "investment"},
    limit=5
)
"""

THREADS = """
# Create a thread
thread = await client.threads.create(
    metadata={"user_id": "123", "portfolio": "growth"}
)

# Get thread state
state = await client.threads.get_state(thread["thread_id"])

# Update thread state
new_state = await client.threads.update_state(
    thread["thread_id"],
    values={"portfolio_value": 50000}
)

# Get state history
history = await client.threads.get_history(
    thread["thread_id"],
    limit=5
)
"""

RUNS = """
# Create and wait for run
result = await client.runs.wait(
    thread_id=thread["thread_id"],
    assistant_id=assistant["assistant_id"],
    input={"messages": [{"role": "user", "content": "Analyze AAPL"}]}
)

# Stream run results
async for chunk in client.runs.stream(
    thread_id=thread["thread_id"],
    assistant_id=assistant["assistant_id"],
    input={"messages": [{"role": "user", "content": "Analyze TSLA"}]},
    stream_mode=["values", "updates"]
):
    print(chunk)

# Cancel a run
await client.runs.cancel(thread["thread_id"], run["run_id"])
"""

CRONS = """
# Create daily analysis job
cron = await client.crons.create(
    thread_id=thread["thread_id"],
    assistant_id=assistant["assistant_id"],
    schedule="0 9 * * *",  # Daily at 9 AM
    input={"messages": [{"role": "user", "content": "Daily portfolio analysis"}]}
)

# List cron jobs for assistant
jobs = await client.crons.search(
    assistant_id=assistant["assistant_id"]
)

# Delete cron job
await client.crons.delete(cron["cron_id"])
"""

STORE = """
# Store user preferences
await client.store.put(
    namespace=["users", "123"],
    key="preferences",
    value={"risk_tolerance": "moderate", "sectors": ["tech", "healthcare"]}
)

# Retrieve preferences
prefs = await client.store.get(
    namespace=["users", "123"],
    key="preferences"
)

# Search in namespace
items = await client.store.search(
    namespace=["users"],
    filter={"risk_tolerance": "moderate"}
)
"""

ERROR_HANDLING = """
from graphdock import get_client

try:
    client = get_client(url="http://localhost:8123")
    result = await client.runs.wait(
        thread_id=thread_id,
        assistant_id=assistant_id,
        input={"messages": [{"role": "user", "content": "query"}]}
    )
except Exception as e:
    print(f"Error: {e}")
"""

SYNC_VS_ASYNC = """
# Async (recommended for production)
from graphdock import get_client
client = get_client(url="http://localhost:8123")
result = await client.runs.wait(...)

# Sync (for scripts/notebooks)
from graphdock import get_sync_client
client = get_sync_client(url="http://localhost:8123")
result = client.runs.wait(...)
"""

COMPLETE = """
from graphdock import get_client

async def analyze_stock(symbol: str):
    # Initialize client
    client = get_client(url="http://localhost:8123")

    # Create or get assistant
    assistant = await client.assistants.create(
        graph_id="stock_analyzer",
        name="Stock Analysis Agent",
        config={"configurable": {"model": "claude-3-7-sonnet"}}
    )

    # Create thread
    thread = await client.threads.create(
        metadata={"user": "investor_1", "symbol": symbol}
    )

    # Stream analysis
    async for event in client.runs.stream(
        thread_id=thread["thread_id"],
        assistant_id=assistant["assistant_id"],
        input={"messages": [{"role": "user", "content": f"Analyze {symbol}"}]},
        stream_mode=["values", "updates"]
    ):
        print(event)

    # Get final state
    state = await client.threads.get_state(thread["thread_id"])
    return state["values"]
"""


async def run_snippet(source: str, namespace: dict) -> None:
    code = compile(source, "<seed example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if result is not None:
        await result


@pytest.fixture
async def seed(server_url, monkeypatch):
    """A namespace like the one the seed's snippets assume, on the server under test."""
    real_async, real_sync = graphdock.client.get_client, graphdock.client.get_sync_client

    def redirect(factory):
        def make(*, url=None, **kwargs):
            url = server_url if url == "http://localhost:8123" else url
            return factory(url=url, api_key=kwargs.pop("api_key", None), **kwargs)

        return make

    monkeypatch.setattr(graphdock.client, "get_client", redirect(real_async))
    monkeypatch.setattr(graphdock.client, "get_sync_client", redirect(real_sync))
    client = real_async(url=server_url, api_key=None)
    has_seed_graphs = bool(await client.assistants.search(graph_id="my_graph", limit=1))
    assistant = await client.assistants.create("agent", name="seed")
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"], assistant["assistant_id"], input={"messages": []}
    )
    await client.runs.join(thread["thread_id"], run["run_id"])
    printed: list = []
    yield {
        "client": client,
        "assistant": assistant,
        "thread": thread,
        "run": run,
        "thread_id": thread["thread_id"],
        "assistant_id": assistant["assistant_id"],
        "print": printed.append,
        "printed": printed,
        "has_seed_graphs": has_seed_graphs,
    }
    await client.aclose()


def needs_seed_graphs(seed: dict) -> None:
    if not seed["has_seed_graphs"]:
        pytest.skip("server does not serve the seed's example graphs my_graph / stock_analyzer")


async def test_initialization(seed):
    await run_snippet(INITIALIZATION, seed)
    assert isinstance(seed["client"], graphdock.client.SyncLangGraphClient)
    assert seed["client"].threads.count() >= 1


async def test_assistants_example(seed):
    needs_seed_graphs(seed)
    await run_snippet(ASSISTANTS, seed)
    assert seed["assistant"]["name"] == "Investment Analyzer"
    assert seed["assistants"] == []


async def test_threads_example(seed):
    # The server refuses update_state on a thread that never ran a graph (no graph to apply
    # the update to): the reference answers 400, and so does the snippet.
    with pytest.raises(BadRequestError, match="graph"):
        await run_snippet(THREADS, seed)
    assert seed["state"]["values"] == {} and seed["thread"]["metadata"]["portfolio"] == "growth"


async def test_runs_example(seed):
    # `run` finished before the snippet cancels it, so the server answers 404 to the cancel.
    with pytest.raises(NotFoundError):
        await run_snippet(RUNS, seed)
    assert seed["result"]["messages"][-1]["content"] == "b"
    assert [p.event for p in seed["printed"]] == [
        "metadata",
        "values",
        "updates",
        "values",
        "updates",
        "values",
    ]


async def test_crons_example(seed):
    await run_snippet(CRONS, seed)
    assert seed["cron"]["thread_id"] == seed["thread_id"]
    assert seed["cron"]["cron_id"] in [j["cron_id"] for j in seed["jobs"]]


async def test_store_example(seed):
    await run_snippet(STORE, seed)
    assert seed["prefs"]["value"]["risk_tolerance"] == "moderate"
    assert [i["key"] for i in seed["items"]] == ["preferences"]


async def test_error_handling_example(seed):
    await run_snippet(ERROR_HANDLING, seed)
    assert (
        seed["printed"] == [] and seed["result"]["count"] == 4
    )  # the fixture's run, then this one


async def test_sync_vs_async_example(seed):
    # `wait(...)` is a placeholder for real arguments; everything else runs as written.
    with pytest.raises(TypeError, match="assistant_id"):
        await run_snippet(SYNC_VS_ASYNC, seed)
    runnable = SYNC_VS_ASYNC.replace("result = await client.runs.wait(...)", "")
    runnable = runnable.replace("result = client.runs.wait(...)", "")
    await run_snippet(runnable, seed)
    assert isinstance(seed["client"], graphdock.client.SyncLangGraphClient)


async def test_complete_example(seed):
    needs_seed_graphs(seed)
    await run_snippet(COMPLETE, seed)
    values = await seed["analyze_stock"]("AAPL")
    assert values["messages"][0]["content"] == "Analyze AAPL" and values["count"] == 2
    assert len(seed["printed"]) == 6
