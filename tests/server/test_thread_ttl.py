"""`checkpointer.ttl.default_ttl` in langgraph.json gives every new thread a time to live."""

from __future__ import annotations

import json
import time

import httpx

from tests.support.server import TEST_APP


def test_default_thread_ttl_from_config(server_process, tmp_path):
    config = json.loads(TEST_APP.read_text())
    config["dependencies"] = [str(TEST_APP.parent)]
    config["graphs"] = {"agent": str(TEST_APP.parent / "graph.py") + ":graph"}
    config.pop("store", None)
    config["checkpointer"] = {"ttl": {"strategy": "delete", "default_ttl": 0.02}}  # 1.2 s
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    server = server_process(config=path, env={"GRAPHDOCK_TTL_SWEEP_SECONDS": "0.2"})
    with httpx.Client(base_url=server.url, timeout=10) as client:
        created = time.monotonic()
        thread_id = client.post("/threads", json={}).json()["thread_id"]
        assert client.get(f"/threads/{thread_id}").status_code == 200
        while client.get(f"/threads/{thread_id}").status_code == 200:
            assert time.monotonic() - created < 10, "the default TTL never expired the thread"
            time.sleep(0.1)
        assert time.monotonic() - created >= 1.0


async def test_sweep_limit_caps_the_threads_one_sweep_deletes(tmp_path):
    """`checkpointer.ttl.sweep_limit`: one sweep deletes at most that many expired threads."""
    from graphdock.server.app import open_services
    from graphdock.server.config import load_config
    from graphdock.server.services.context import ANONYMOUS
    from graphdock.server.settings import Settings

    config = json.loads(TEST_APP.read_text())
    config["dependencies"] = [str(TEST_APP.parent)]
    config["graphs"] = {"agent": str(TEST_APP.parent / "graph.py") + ":graph"}
    config.pop("store", None)
    config["checkpointer"] = {"ttl": {"default_ttl": 0.001, "sweep_limit": 2}}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    settings = Settings(config_path=path, data_dir=tmp_path / "data", ttl_sweep_interval=3600)
    async with open_services(settings, load_config(path)) as services:
        for _ in range(5):
            await services.threads.create({}, ANONYMOUS)
        time.sleep(0.1)  # past their 60 ms time to live
        assert await services.sweeper.sweep_threads() == 2
        assert await services.sweeper.sweep_threads() == 2
        assert await services.sweeper.sweep_threads() == 1
