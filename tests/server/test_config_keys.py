"""No langgraph.json key is parsed and then dropped.

`KEYS` lists every key the official CLI's schema knows (and the few graphdock adds), each
with a value that asks for something, and what graphdock does with it: either a behaviour
test that shows it honoured, or "refused" (the start stops with one line naming the key).
The table test feeds each to the loader; the tests below it cover keys no other module's
test shows at work. README.md ("langgraph.json") lists the same keys for a person.
"""

from __future__ import annotations

import ast
import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graphdock.server.config import ConfigError, parse_config
from tests.support.server import ROOT, TEST_APP

REFUSED = "refused"
APP_TESTS = "tests/server/test_custom_app.py"
HERE = "tests/server/test_config_keys.py"
G = {"graphs": {"g": "./g.py:graph"}}

# key -> (a config that sets it, what graphdock does: a behaviour test, or REFUSED)
KEYS: dict[str, tuple[dict, str]] = {
    "$schema": ({"$schema": "https://langgra.ph/schema.json"}, f"{HERE}::test_every_known_key_is_honoured_or_refused"),
    "python_version": ({"python_version": "3.11"}, f"{HERE}::test_python_version_is_checked"),
    "dependencies": ({"dependencies": ["."]}, "tests/server/test_config.py::test_module_path_form_and_dependencies"),
    "dependencies (a package)": ({"dependencies": ["httpx"]}, f"{HERE}::test_package_dependencies_must_be_installed"),
    "graphs": ({}, "tests/server/test_config.py::test_graph_forms"),
    "graphs.*.description": ({"graphs": {"g": {"path": "./g.py:graph", "description": "d"}}}, "tests/server/test_config.py::test_server_builds_factory_graphs_per_run_from_config"),
    "env": ({"env": {"A": "1"}}, "tests/server/test_config.py::test_env_dict_and_dotenv_file"),
    "store.index": ({"store": {"index": {"embed": "./e.py:embed", "dims": 4, "fields": ["t"]}}}, "tests/server/test_store.py::test_semantic_search_ranks_nearest_first"),
    "store.ttl": ({"store": {"ttl": {"default_ttl": 5, "refresh_on_read": True, "sweep_interval_minutes": 1}}}, "tests/server/test_store.py::test_ttl_expires_items_and_threads"),
    "store.ttl.sweep_interval_minutes": ({"store": {"ttl": {"sweep_interval_minutes": 2}}}, f"{HERE}::test_sweep_interval_minutes_sets_the_sweep"),
    "store.path": ({"store": {"path": "./s.py:store"}}, REFUSED),
    "checkpointer.ttl.default_ttl": ({"checkpointer": {"ttl": {"default_ttl": 5, "strategy": "delete"}}}, "tests/server/test_thread_ttl.py::test_default_thread_ttl_from_config"),
    "checkpointer.ttl.strategy": ({"checkpointer": {"ttl": {"strategy": "keep_latest"}}}, REFUSED),
    "checkpointer.ttl.sweep_interval_minutes": ({"checkpointer": {"ttl": {"sweep_interval_minutes": 3}}}, f"{HERE}::test_sweep_interval_minutes_sets_the_sweep"),
    "checkpointer.ttl.sweep_limit": ({"checkpointer": {"ttl": {"sweep_limit": 10}}}, "tests/server/test_thread_ttl.py::test_sweep_limit_caps_the_threads_one_sweep_deletes"),
    "checkpointer.serde": ({"checkpointer": {"serde": {"pickle_fallback": True, "allowed_json_modules": [["m", "T"]], "allowed_msgpack_modules": None}}}, f"{HERE}::test_checkpointer_serde_shapes_the_serializer"),
    "checkpointer.backend": ({"checkpointer": {"backend": "mongo"}}, REFUSED),
    "checkpointer.path": ({"checkpointer": {"path": "./c.py:saver"}}, REFUSED),
    "http.app": ({"http": {"app": "./webapp.py:app"}}, f"{APP_TESTS}::test_the_custom_routes_are_served_and_admitted_as_declared"),
    "http.middleware_order": ({"http": {"middleware_order": "auth_first"}}, f"{APP_TESTS}::test_the_custom_middleware_wraps_the_api_in_the_configured_order"),
    "http.enable_custom_route_auth": ({"http": {"enable_custom_route_auth": True}}, f"{APP_TESTS}::test_the_custom_routes_are_served_and_admitted_as_declared"),
    "http.mount_prefix": ({"http": {"mount_prefix": "/api"}}, f"{APP_TESTS}::test_mount_prefix_serves_everything_under_it"),
    "http.logging_headers": ({"http": {"logging_headers": {"includes": ["x-*"], "excludes": ["x-secret"]}}}, f"{APP_TESTS}::test_logging_headers_choose_what_the_access_log_shows"),
    "http.cors": ({"http": {"cors": {"allow_origins": ["http://a"], "max_age": 5}}}, "tests/server/test_auth_keys.py::test_configured_cors"),
    "http.cors.allow_origin_regex": ({"http": {"cors": {"allow_origin_regex": "https://.*\\.example"}}}, f"{HERE}::test_cors_origin_regex"),
    "http.configurable_headers": ({"http": {"configurable_headers": {"includes": ["x-*"]}}}, "tests/server/test_auth.py::test_secrets_never_reach_run_config"),
    "http.max_request_bytes": ({"http": {"max_request_bytes": 1000}}, f"{HERE}::test_max_request_bytes_limits_bodies"),
    **{
        f"http.disable_{name}": ({"http": {f"disable_{name}": True}}, f"{APP_TESTS}::test_a_disabled_route_group_answers_404")
        for name in ("assistants", "threads", "runs", "store", "meta", "crons")
    },
    **{
        f"http.disable_{name}": ({"http": {f"disable_{name}": True}}, f"{APP_TESTS}::test_every_disable_flag_is_a_route_group_or_a_behaviour")
        for name in ("mcp", "a2a", "ui", "event_streaming")
    },
    "http.disable_webhooks": ({"http": {"disable_webhooks": True}}, f"{HERE}::test_disable_webhooks_sends_none"),
    "webhooks.url": ({"webhooks": {"url": {"require_https": True, "allowed_domains": ["*.example"], "allowed_ports": [443], "max_url_length": 100, "disable_loopback": True, "disable_private_ips": True}}}, f"{HERE}::test_the_webhook_url_policy_is_enforced"),
    "webhooks.headers": ({"webhooks": {"headers": {"x-k": "${{ env.LG_WEBHOOK_K }}"}}}, f"{HERE}::test_webhook_headers_fill_templates_within_env_prefix"),
    "webhooks.env_prefix": ({"webhooks": {"env_prefix": "MY_"}}, f"{HERE}::test_webhook_headers_fill_templates_within_env_prefix"),
    "webhooks.allowed_fields": ({"webhooks": {"allowed_fields": ["run_id", "status"]}}, f"{HERE}::test_disable_webhooks_sends_none"),
    "auth.path": ({"auth": {"path": "./auth.py:auth"}}, "tests/server/test_auth.py::test_secrets_never_reach_run_config"),
    "auth.disable_studio_auth": ({"auth": {"path": "./a.py:auth", "disable_studio_auth": True}}, f"{HERE}::test_studio_never_bypasses_custom_auth"),
    "auth.openapi": ({"auth": {"openapi": {"securitySchemes": {"B": {"type": "http"}}}}}, f"{APP_TESTS}::test_openapi_lists_the_custom_routes_and_the_declared_security"),
    "auth.cache": ({"auth": {"cache": {"cache_keys": ["authorization"], "ttl_seconds": 60, "max_size": 10}}}, f"{APP_TESTS}::test_auth_cache_keeps_authenticate_results_per_header"),
    "auth.allow_langsmith_api_keys": ({"auth": {"allow_langsmith_api_keys": True}}, REFUSED),
    "encryption": ({"encryption": {"path": "./encryption.py:encryption"}}, "tests/server/test_encryption.py::test_what_is_stored_is_ciphertext_and_reads_back_plain"),
    "disable_persistence": ({"disable_persistence": True}, f"{HERE}::test_disable_persistence_keeps_nothing"),
    "ui": ({"ui": {"card": "./ui.tsx"}}, REFUSED),
    "ui_config": ({"ui_config": {"shared": ["react"]}}, REFUSED),
    "priority": ({"priority": {"path": "./p.py:priority"}}, REFUSED),
    "node_version": ({"node_version": "20"}, REFUSED),
    "api_version": ({"api_version": "0.8"}, REFUSED),
    "base_image": ({"base_image": "langchain/langgraph-api"}, REFUSED),
    "image_distro": ({"image_distro": "wolfi"}, REFUSED),
    "pip_config_file": ({"pip_config_file": "pip.conf"}, REFUSED),
    "pip_installer": ({"pip_installer": "uv"}, REFUSED),
    "dockerfile_lines": ({"dockerfile_lines": ["RUN true"]}, REFUSED),
    "keep_pkg_tools": ({"keep_pkg_tools": True}, REFUSED),
    "source": ({"source": {"kind": "uv", "root": "."}}, REFUSED),
    "_INTERNAL_docker_tag": ({"_INTERNAL_docker_tag": "x"}, REFUSED),
    "project_root": ({"project_root": ".."}, REFUSED),
    "package": ({"package": "p"}, REFUSED),
}  # fmt: skip


def _test_exists(reference: str) -> bool:
    file, _, name = reference.partition("::")
    tree = ast.parse((ROOT / file).read_text())
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for node in tree.body
    )


@pytest.mark.parametrize("key", list(KEYS))
def test_every_known_key_is_honoured_or_refused(key, tmp_path, caplog):
    fragment, verdict = KEYS[key]
    raw = {**G, **fragment}
    name = key.split(" ")[0]
    with caplog.at_level(logging.WARNING, logger="graphdock.config"):
        if verdict == REFUSED:
            with pytest.raises(ConfigError) as exc:
                parse_config(raw, tmp_path / "langgraph.json")
            assert exc.value.key == name or exc.value.key.startswith(name + ".")
            assert len(str(exc.value).splitlines()) == 1
            return
        parse_config(raw, tmp_path / "langgraph.json")
    assert "unknown key" not in caplog.text  # known, so not mistaken for a typo
    assert _test_exists(verdict), f"{key}: no behaviour test {verdict}"


def _official_schema_keys() -> set[str] | None:
    """Every key the official CLI's schema (langgraph_cli.schemas.Config) knows, dotted."""
    oracle = ROOT / ".venv-oracle" / "bin" / "python"
    if not oracle.exists():
        return None
    script = """
import json, typing
from langgraph_cli import schemas
out = set()
def walk(td, prefix, depth=0):
    for name, hint in typing.get_type_hints(td).items():
        key = prefix + name
        out.add(key)
        for arg in typing.get_args(hint) or (hint,):
            if isinstance(arg, type) and hasattr(arg, "__annotations__") and depth < 2 and name != "graphs":
                walk(arg, key + ".", depth + 1)
walk(schemas.Config, "")
print(json.dumps(sorted(out)))
"""
    done = subprocess.run([str(oracle), "-c", script], capture_output=True, text=True, timeout=60)
    return set(json.loads(done.stdout)) if done.returncode == 0 else None


def test_the_table_covers_the_official_schema():
    keys = _official_schema_keys()
    if keys is None:
        pytest.skip("the reference CLI (.venv-oracle) is not installed")
    covered = {k.split(" ")[0] for k in KEYS}

    def is_covered(key: str) -> bool:  # itself, a section it is in, or keys inside it
        parts = key.split(".")
        if any(".".join(parts[:n]) in covered for n in range(1, len(parts) + 1)):
            return True
        return any(k.startswith(key + ".") for k in covered)

    assert sorted(k for k in keys if not is_covered(k)) == []


# ---------------------------------------------------------------- keys shown at work here
def test_python_version_is_checked(tmp_path):
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    parse_config({**G, "python_version": running}, tmp_path / "langgraph.json")
    with pytest.raises(ConfigError, match=r"asks for Python 9\.1; this is Python") as exc:
        parse_config({**G, "python_version": "9.1"}, tmp_path / "langgraph.json")
    assert exc.value.key == "python_version"


def test_package_dependencies_must_be_installed(tmp_path):
    parse_config({**G, "dependencies": ["httpx", "orjson>=3"]}, tmp_path / "langgraph.json")
    with pytest.raises(ConfigError, match="not installed in this environment") as exc:
        parse_config({**G, "dependencies": ["no-such-package-xyz"]}, tmp_path / "langgraph.json")
    assert exc.value.key == "dependencies"
    with pytest.raises(ConfigError, match="is wanted"):
        parse_config({**G, "dependencies": ["httpx<0.1"]}, tmp_path / "langgraph.json")


def test_sweep_interval_minutes_sets_the_sweep(tmp_path):
    from graphdock.server.services.sweeper import sweep_interval

    both = {
        "store": {"ttl": {"sweep_interval_minutes": 2}},
        "checkpointer": {"ttl": {"sweep_interval_minutes": 3}},
    }
    config = parse_config({**G, **both}, tmp_path / "langgraph.json")
    assert sweep_interval(config, None) == 120.0  # the shorter of the two


def test_checkpointer_serde_shapes_the_serializer(tmp_path):
    from graphdock.server.backends import checkpoint_serde

    raw = {**G, **KEYS["checkpointer.serde"][0]}
    serde = checkpoint_serde(parse_config(raw, tmp_path / "langgraph.json"))
    assert serde.pickle_fallback is True
    assert serde._allowed_json_modules == {("m", "T")}
    assert serde._allowed_msgpack_modules is None  # strict: only langgraph's safe types
    assert checkpoint_serde(parse_config(G, tmp_path / "langgraph.json")) is None


def _asgi(tmp_path: Path, http: dict, **more) -> httpx.AsyncClient:
    from graphdock.server.app import create_app
    from graphdock.server.settings import Settings

    config = {
        "dependencies": [str(TEST_APP.parent)],
        "graphs": {"agent": str(TEST_APP.parent / "graph.py") + ":graph"},
        "http": http,
        **more,
    }
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    app = create_app(Settings(config_path=path))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_cors_origin_regex(tmp_path):
    async with _asgi(tmp_path, {"cors": {"allow_origin_regex": r"https://.*\.example"}}) as http:
        preflight = {"access-control-request-method": "POST"}
        ok = await http.options("/threads", headers={**preflight, "origin": "https://a.example"})
        assert ok.headers["access-control-allow-origin"] == "https://a.example"
        bad = await http.options("/threads", headers={**preflight, "origin": "https://evil.test"})
        assert bad.status_code == 400


async def test_max_request_bytes_limits_bodies(tmp_path):
    async with _asgi(tmp_path, {"max_request_bytes": 1000}) as http:
        response = await http.post("/threads", json={"metadata": {"x": "y" * 2000}})
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large: the limit is 1000 bytes"}


async def test_studio_never_bypasses_custom_auth(tmp_path):
    auth = ROOT / "tests" / "app_custom" / "auth.py"
    sys.path.insert(0, str(auth.parent))  # its `import shared`
    async with _asgi(
        tmp_path, {}, auth={"path": f"{auth}:auth", "disable_studio_auth": False}
    ) as http:
        response = await http.post(
            "/threads/search", json={}, headers={"x-auth-scheme": "langsmith"}
        )
        assert response.status_code == 401  # graphdock has no Studio bypass to disable


def test_the_webhook_url_policy_is_enforced(tmp_path):
    from graphdock.server.services.errors import Invalid
    from graphdock.server.services.webhooks import check_webhook_url

    config = parse_config({**G, **KEYS["webhooks.url"][0]}, tmp_path / "langgraph.json").webhooks
    check_webhook_url("https://hooks.example/x", config)
    for url, why in (
        ("http://hooks.example/x", "https"),
        ("https://hooks.other/x", "allowed domain"),
        ("https://hooks.example:8443/x", "port"),
        ("https://hooks.example/" + "x" * 100, "longer than 100"),
    ):
        with pytest.raises(Invalid, match=why):
            check_webhook_url(url, config)


def test_webhook_headers_fill_templates_within_env_prefix(tmp_path, monkeypatch):
    from graphdock.server.services.webhooks import WebhookSender

    monkeypatch.setenv("LG_WEBHOOK_K", "from-env")
    config = parse_config({**G, **KEYS["webhooks.headers"][0]}, tmp_path / "langgraph.json")
    assert WebhookSender(config.webhooks).headers("msg_1", b"{}")["x-k"] == "from-env"
    leaking = {"webhooks": {"env_prefix": "MY_", "headers": {"x-k": "${{ env.OPENAI_API_KEY }}"}}}
    with pytest.raises(ConfigError, match=r"outside webhooks\.env_prefix") as exc:
        parse_config({**G, **leaking}, tmp_path / "langgraph.json")
    assert exc.value.key == "webhooks.headers.x-k"


async def test_disable_webhooks_sends_none(tmp_path):
    """Two in-process servers on real runs: with `disable_webhooks` the receiver gets
    nothing; without, it gets the run with only the `allowed_fields`."""
    from graphdock.server.app import open_services
    from graphdock.server.config import load_config
    from graphdock.server.services.context import ANONYMOUS
    from graphdock.server.services.run_spec import StatelessRunCreate
    from graphdock.server.settings import Settings
    from tests.support.receiver import Receiver

    receiver = Receiver()
    for disabled in (True, False):
        folder = tmp_path / str(disabled)
        folder.mkdir()
        config = {
            "dependencies": [str(TEST_APP.parent)],
            "graphs": {"agent": str(TEST_APP.parent / "graph.py") + ":graph"},
            "http": {"disable_webhooks": disabled},
            "webhooks": {"url": {"disable_loopback": False, "require_https": False}, "allowed_fields": ["run_id", "status"]},
        }  # fmt: skip
        (folder / "langgraph.json").write_text(json.dumps(config))
        settings = Settings(config_path=folder / "langgraph.json", data_dir=folder / "data")
        async with open_services(settings, load_config(folder / "langgraph.json")) as services:
            body = {
                "assistant_id": "agent",
                "input": {"messages": []},
                "webhook": receiver.url + "/h",
            }
            run = await services.runs.create(
                None, StatelessRunCreate.model_validate(body), ANONYMOUS
            )
            await services.runs.wait_until_done(run, timeout=20)
            await services.webhooks.close()  # every webhook it was going to send, sent
        sent = [r["body"] for r in receiver.requests]
        if disabled:
            assert sent == []
        else:
            assert [set(b) for b in sent] == [{"run_id", "status", "webhook_sent_at"}]


def test_disable_persistence_keeps_nothing(tmp_path):
    from tests.support.server import ServerProcess

    config = {
        "dependencies": [str(TEST_APP.parent)],
        "graphs": {"agent": str(TEST_APP.parent / "graph.py") + ":graph"},
        "disable_persistence": True,
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    server = ServerProcess(tmp_path / "data", tmp_path / "langgraph.json").start()
    try:
        assert httpx.post(server.url + "/threads", json={}).status_code == 200
        lines = server.log().splitlines()
        line = next(x for x in lines if "data:" in x and "disable_persistence" in x)
        ephemeral = Path(line.split("data:", 1)[1].split()[0]).parent
        assert ephemeral.exists() and not (tmp_path / "data" / "graphdock.sqlite").exists()
    finally:
        server.stop()
    assert not ephemeral.exists()
