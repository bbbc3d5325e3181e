"""Encryption at rest, on SQLite and on PostgreSQL, with a custom `langgraph_sdk.Encryption`
(`encryption.path`) and with the built-in AES (`LANGGRAPH_AES_KEY`).

Secrets go into every kind of record (an assistant's context and metadata, a thread's
metadata, a run's input and metadata, the graph state and its checkpoints, a store item, a
cron's payload); every API read gives them back; the SQLite file and the Postgres rows hold
none of them. A wrong key, or none, stops the next start in one line and loses nothing: the
right key reads everything again.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
from langgraph_sdk import get_client

GRAPH = """
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    note: str
    echoed: str


def echo(state: State) -> State:
    return {"echoed": "echo of " + state.get("note", "")}


builder = StateGraph(State)
builder.add_node("echo", echo)
builder.add_edge(START, "echo")
builder.add_edge("echo", END)
graph = builder.compile()
"""

# Fernet per value, every key but the ones searched on; the key comes from the environment.
ENCRYPTION = """
import os

import orjson
from cryptography.fernet import Fernet
from langgraph_sdk import Encryption, EncryptionContext

encryption = Encryption()
fernet = Fernet(os.environ["TEST_FERNET_KEY"].encode())
PREFIX = "enc:"
PLAIN = {"owner", "tenant"}


@encryption.encrypt.json
async def encrypt_json(ctx: EncryptionContext, data: dict) -> dict:
    return {
        k: v if k in PLAIN or v is None else PREFIX + fernet.encrypt(orjson.dumps(v)).decode()
        for k, v in data.items()
    }


@encryption.decrypt.json
async def decrypt_json(ctx: EncryptionContext, data: dict) -> dict:
    return {
        k: orjson.loads(fernet.decrypt(v[len(PREFIX):].encode()))
        if isinstance(v, str) and v.startswith(PREFIX) else v
        for k, v in data.items()
    }


@encryption.encrypt.blob
async def encrypt_blob(ctx: EncryptionContext, blob: bytes) -> bytes:
    return fernet.encrypt(blob)


@encryption.decrypt.blob
async def decrypt_blob(ctx: EncryptionContext, blob: bytes) -> bytes:
    return fernet.decrypt(blob)
"""


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _aes_key() -> str:
    return uuid.uuid4().hex  # 32 characters: AES-256


CIPHERS = {
    "custom": lambda key: {"TEST_FERNET_KEY": key},
    "aes": lambda key: {
        "LANGGRAPH_AES_KEY": key,
        "LANGGRAPH_AES_JSON_KEYS": "note,echoed,secret_ctx",
    },
}
KEYS = {"custom": _fernet_key, "aes": _aes_key}


def _project(tmp_path: Path, cipher: str) -> Path:
    (tmp_path / "echo_graph.py").write_text(GRAPH)
    config = {"dependencies": ["."], "graphs": {"echo": "./echo_graph.py:graph"}}
    if cipher == "custom":
        (tmp_path / "encryption.py").write_text(textwrap.dedent(ENCRYPTION))
        config["encryption"] = {"path": "./encryption.py:encryption"}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


async def _write_secrets(url: str, secret: str) -> dict:
    client = get_client(url=url)
    assistant = await client.assistants.create(
        "echo", context={"secret_ctx": secret + "-ctx"}, metadata={"note": secret + "-am"}
    )
    thread = await client.threads.create(metadata={"note": secret + "-tm", "owner": "o1"})
    result = await client.runs.wait(
        thread["thread_id"],
        assistant["assistant_id"],
        input={"note": secret + "-in"},
        metadata={"note": secret + "-rm"},
    )
    assert result == {"note": secret + "-in", "echoed": "echo of " + secret + "-in"}
    await client.store.put_item(("memories", "o1"), "k1", {"note": secret + "-store"})
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule="0 0 1 1 *", input={"note": secret + "-cron"}
    )
    return {"assistant": assistant, "thread": thread, "cron": cron}


async def _read_back(url: str, secret: str, ids: dict) -> None:
    client = get_client(url=url)
    assistant = await client.assistants.get(ids["assistant"]["assistant_id"])
    assert assistant["context"]["secret_ctx"] == secret + "-ctx"
    assert assistant["metadata"]["note"] == secret + "-am"
    thread_id = ids["thread"]["thread_id"]
    thread = await client.threads.get(thread_id)
    assert thread["metadata"]["note"] == secret + "-tm"
    assert thread["values"]["echoed"] == "echo of " + secret + "-in"
    # searched on a key the cipher leaves plain
    found = await client.threads.search(metadata={"owner": "o1"})
    assert [t["thread_id"] for t in found] == [thread_id]
    state = await client.threads.get_state(thread_id)
    assert state["values"]["note"] == secret + "-in"
    history = await client.threads.get_history(thread_id)
    assert any(h["metadata"].get("note") == secret + "-rm" for h in history)
    (run,) = await client.runs.list(thread_id)
    assert run["metadata"]["note"] == secret + "-rm" and run["status"] == "success"
    item = await client.store.get_item(("memories", "o1"), "k1")
    assert item["value"] == {"note": secret + "-store"}
    items = await client.store.search_items(("memories",))
    assert [i["value"] for i in items["items"]] == [{"note": secret + "-store"}]
    (cron,) = await client.crons.search(thread_id=thread_id)
    assert cron["payload"]["input"] == {"note": secret + "-cron"}


def _rows_hold(database_url: str, needle: str) -> list[str]:
    """The tables of a Postgres database whose rows hold `needle`, as text or bytes."""
    import psycopg

    found = []
    with psycopg.connect(database_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else None
                    if raw is not None and needle.encode() in raw:
                        found.append(table)
                    elif raw is None and needle in json.dumps(value, default=str):
                        found.append(table)
    return sorted(set(found))


def _files_hold(data_dir: Path, needle: str) -> list[str]:
    return [p.name for p in data_dir.iterdir() if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.mark.long
@pytest.mark.timeout(360)  # four starts of a server, on a busy machine
@pytest.mark.parametrize("cipher", list(CIPHERS))
async def test_what_is_stored_is_ciphertext_and_reads_back_plain(server_process, tmp_path, cipher):
    config = _project(tmp_path, cipher)
    key = KEYS[cipher]()
    secret = "TOPSECRET" + uuid.uuid4().hex[:8]
    data_dir = tmp_path / "data"
    server = server_process(config=config, data_dir=data_dir, env=CIPHERS[cipher](key))
    ids = await _write_secrets(server.url, secret)
    await _read_back(server.url, secret, ids)
    server.stop()
    if server_process.backend == "postgres":
        assert _rows_hold(server.database_url, secret) == []
        assert _rows_hold(server.database_url, "echo of") == []  # the graph's own output too
    else:
        assert _files_hold(data_dir, secret) == []
        assert _files_hold(data_dir, "echo of") == []

    def restart(env: dict[str, str]) -> str:
        from tests.support.server import ServerProcess

        attempt = ServerProcess(
            data_dir,
            config,
            env=env,
            backend=server.backend,
            database_url=server.database_url,
            redis_prefix=server.redis_prefix,
        )
        try:
            attempt.start()
        except RuntimeError:
            assert attempt.proc is not None and attempt.proc.returncode == 2, attempt.log()
            lines = [line for line in attempt.log().splitlines() if line.startswith("graphdock:")]
            return lines[-1]
        attempt.stop()
        raise AssertionError("the server started")

    wrong = restart(CIPHERS[cipher](KEYS[cipher]()))
    assert "does not open the data" in wrong and "nothing was changed" in wrong
    if cipher == "aes":  # without any encryption configured
        none = restart({})
        assert "no encryption is configured" in none
    # the right key reads everything, as it was
    server.start()
    await _read_back(server.url, secret, ids)


def test_a_bad_aes_key_is_refused_at_start(tmp_path):
    from graphdock.server.encryption import EncryptionSetupError, load_codec
    from graphdock.server.settings import Settings

    config = type("C", (), {"encryption_path": None})()
    with pytest.raises(EncryptionSetupError, match="16, 24 or 32 bytes"):
        load_codec(config, Settings(aes_key="short"))
    with pytest.raises(EncryptionSetupError, match="graph_id cannot be encrypted"):
        load_codec(config, Settings(aes_key="k" * 16, aes_json_keys="graph_id"))
