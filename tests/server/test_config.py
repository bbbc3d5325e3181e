"""langgraph.json as the official CLI reads it: graphs, env, dependencies and the validated
sections; bad configs and graphs that fail to import stop the start with one clear line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphdock.server.config import ConfigError, apply_env, load_config, parse_config
from graphdock.server.services.graphs import DESCRIBE, GraphLoadError, GraphRegistry
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]

GRAPH_MODULE = """
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END

class S(TypedDict, total=False):
    n: int

def inc(state: S):
    return {"n": state.get("n", 0) + 1}

def _builder():
    b = StateGraph(S)
    b.add_node("inc", inc)
    b.add_edge(START, "inc")
    b.add_edge("inc", END)
    return b

builder = _builder()
compiled = _builder().compile()

def factory(config):
    return _builder().compile()

def factory_no_args():
    return _builder().compile()
"""


def write_app(
    tmp_path: Path, config: dict, module: str = GRAPH_MODULE, name: str = "app_graphs"
) -> Path:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(module))
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


def run_cli(
    config: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "graphdock.cli",
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(config.parent / "data"),
            "--port",
            "0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=config.parent,
        env={**os.environ, **(env or {})},
    )


# ---------------------------------------------------------------- graphs


async def test_graph_forms(tmp_path):
    path = write_app(
        tmp_path,
        {
            "graphs": {
                "compiled": "./app_graphs.py:compiled",
                "builder": "./app_graphs.py:builder",
                "factory": "./app_graphs.py:factory",
                "noargs": "./app_graphs.py:factory_no_args",
                "described": {
                    "path": "./app_graphs.py:compiled",
                    "description": "the described one",
                },
            }
        },
    )
    config = load_config(path)
    assert [g.graph_id for g in config.graphs] == [
        "compiled",
        "builder",
        "factory",
        "noargs",
        "described",
    ]
    assert config.graphs[-1].description == "the described one"
    registry = GraphRegistry.load(config)
    assert not registry.get("compiled").is_factory
    assert not registry.get("builder").is_factory  # a builder is compiled once at start
    assert registry.get("factory").is_factory and registry.get("noargs").is_factory
    for graph_id in registry.ids:
        entry = registry.get(graph_id)
        async with entry.open({}, checkpointer=None, store=None, access=DESCRIBE) as graph:
            assert "inc" in graph.get_graph().nodes


def test_module_path_form_and_dependencies(tmp_path):
    pkg = tmp_path / "deps" / "mypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "graphs_mod_for_test.py").write_text(textwrap.dedent(GRAPH_MODULE))
    path = tmp_path / "langgraph.json"
    path.write_text(
        json.dumps(
            {"dependencies": ["./deps"], "graphs": {"g": "mypkg.graphs_mod_for_test:compiled"}}
        )
    )
    config = load_config(path)
    assert config.dependencies == [(tmp_path / "deps").resolve()]
    registry = GraphRegistry.load(config)
    assert str((tmp_path / "deps").resolve()) in sys.path
    assert registry.ids == ["g"]


def test_env_dict_and_dotenv_file(tmp_path, monkeypatch):
    path = write_app(
        tmp_path, {"graphs": {"g": "./app_graphs.py:compiled"}, "env": {"GD_T_A": "1", "GD_T_B": 2}}
    )
    assert load_config(path).env == {"GD_T_A": "1", "GD_T_B": "2"}
    (tmp_path / ".env").write_text("GD_T_C=from-file\n# comment\nGD_T_D='quoted'\n")
    path.write_text(json.dumps({"graphs": {"g": "./app_graphs.py:compiled"}, "env": ".env"}))
    config = load_config(path)
    assert config.env == {"GD_T_C": "from-file", "GD_T_D": "quoted"}
    monkeypatch.setenv("GD_T_D", "already-set")
    monkeypatch.delenv("GD_T_C", raising=False)
    apply_env(config)
    assert os.environ["GD_T_C"] == "from-file" and os.environ["GD_T_D"] == "already-set"
    monkeypatch.delenv("GD_T_C")


def test_sections_are_parsed(tmp_path):
    config = parse_config(
        {
            "graphs": {"g": "./x.py:g"},
            "store": {
                "index": {"embed": "./e.py:embed", "dims": 8, "fields": ["text"]},
                "ttl": {"default_ttl": 10, "refresh_on_read": False, "sweep_interval_minutes": 5},
            },
            "checkpointer": {"ttl": {"strategy": "delete", "default_ttl": 60}},
            "http": {
                "disable_store": True,
                "disable_meta": False,
                "cors": {"allow_origins": ["http://a"], "max_age": 42},
                "configurable_headers": {"includes": ["x-tenant-*"]},
                "mount_prefix": "/api",
            },
            "webhooks": {"url": {"disable_loopback": False}, "headers": {"x-h": "v"}},
            "auth": {"path": "./auth.py:auth", "disable_studio_auth": True},
        },
        tmp_path / "langgraph.json",
    )
    assert (config.store_index.embed, config.store_index.dims, config.store_index.fields) == (
        "./e.py:embed",
        8,
        ["text"],
    )
    assert config.store_ttl.default_ttl == 10 and config.store_ttl.refresh_on_read is False
    assert config.checkpointer_ttl.default_ttl == 60
    assert config.http.disabled == {"store"}
    assert config.http.cors.allow_origins == ["http://a"] and config.http.cors.max_age == 42
    assert config.http.configurable_headers == {"includes": ["x-tenant-*"], "excludes": []}
    # a url block opts into https-only unless relaxed, as in the reference
    assert (
        config.webhooks.url.require_https is True and config.webhooks.url.disable_loopback is False
    )
    assert config.webhooks.headers == {"x-h": "v"}
    assert config.auth.path == "./auth.py:auth" and config.auth.disable_studio_auth is True


def test_unknown_keys_warn(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="graphdock.config"):
        parse_config(
            {
                "graphs": {"g": "./x.py:g"},
                "bogus_top": 1,
                "http": {"bogus_http": 1},
                "store": {"bogus_store": 1},
                "python_version": "3.11",
            },
            tmp_path / "langgraph.json",
        )
    text = caplog.text
    assert "'bogus_top'" in text and "'http.bogus_http'" in text and "'store.bogus_store'" in text
    assert "python_version" not in text  # a key of `langgraph build` is known, not warned about


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({}, "graphs"),
        ({"graphs": {}}, "graphs"),
        ({"graphs": []}, "graphs"),
        ({"graphs": {"g": 5}}, "graphs.g"),
        ({"graphs": {"g": "no-colon"}}, "graphs.g"),
        ({"graphs": {"g": {"description": "no path"}}}, "graphs.g"),
        ({"graphs": {"g": "./x.ts:graph"}}, "graphs.g"),
        ({"graphs": {"g": "./x.py:g"}, "dependencies": "."}, "dependencies"),
        ({"graphs": {"g": "./x.py:g"}, "env": ["A"]}, "env"),
        ({"graphs": {"g": "./x.py:g"}, "env": "./missing.env"}, "env"),
        ({"graphs": {"g": "./x.py:g"}, "env": {"A": {"nested": 1}}}, "env.A"),
        ({"graphs": {"g": "./x.py:g"}, "store": {"index": {"dims": 8}}}, "store.index.embed"),
        (
            {"graphs": {"g": "./x.py:g"}, "store": {"index": {"embed": "x:y", "dims": "8"}}},
            "store.index.dims",
        ),
        (
            {"graphs": {"g": "./x.py:g"}, "store": {"ttl": {"default_ttl": "soon"}}},
            "store.ttl.default_ttl",
        ),
        (
            {"graphs": {"g": "./x.py:g"}, "checkpointer": {"backend": "redis"}},
            "checkpointer.backend",
        ),
        (
            {"graphs": {"g": "./x.py:g"}, "checkpointer": {"ttl": {"strategy": "nope"}}},
            "checkpointer.ttl.strategy",
        ),
        ({"graphs": {"g": "./x.py:g"}, "http": {"disable_store": "yes"}}, "http.disable_store"),
        (
            {"graphs": {"g": "./x.py:g"}, "http": {"cors": {"allow_origins": "*"}}},
            "http.cors.allow_origins",
        ),
        ({"graphs": {"g": "./x.py:g"}, "http": []}, "http"),
        (
            {"graphs": {"g": "./x.py:g"}, "webhooks": {"url": {"require_https": "no"}}},
            "webhooks.url.require_https",
        ),
        ({"graphs": {"g": "./x.py:g"}, "webhooks": {"headers": {"x": 1}}}, "webhooks.headers.x"),
        ({"graphs": {"g": "./x.py:g"}, "auth": {"path": 3}}, "auth.path"),
        ([], "(file)"),
    ],
)
def test_bad_config_names_the_key(tmp_path, raw, key):
    with pytest.raises(ConfigError) as exc:
        parse_config(raw, tmp_path / "langgraph.json")
    assert exc.value.key == key
    assert str(exc.value).startswith(f"{tmp_path / 'langgraph.json'}: {key}: ")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "nope.json")
    assert exc.value.key == "(file)" and "no such file" in str(exc.value)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "bad.json")
    assert "not valid JSON" in str(exc.value)


# ---------------------------------------------------------------- graph import failures


@pytest.mark.parametrize(
    ("target", "module", "error"),
    [
        ("./app_graphs.py:missing", GRAPH_MODULE, "AttributeError"),
        ("./nofile.py:graph", GRAPH_MODULE, "FileNotFoundError"),
        (
            "./app_graphs.py:graph",
            "raise RuntimeError('kaboom at import')\n",
            "RuntimeError: kaboom at import",
        ),
        ("./app_graphs.py:graph", "graph = 42\n", "TypeError"),
        ("no_such_module_xyz:graph", GRAPH_MODULE, "ModuleNotFoundError"),
    ],
)
def test_graph_that_fails_to_import(tmp_path, target, module, error):
    path = write_app(tmp_path, {"graphs": {"broken": target}}, module, name="app_graphs")
    with pytest.raises(GraphLoadError) as exc:
        GraphRegistry.load(load_config(path))
    assert exc.value.graph_id == "broken"
    assert "'broken'" in str(exc.value) and error in str(exc.value)


# ---------------------------------------------------------------- the CLI


def test_cli_bad_config_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": {"g": "./x.py:g"}, "http": {"disable_store": "yes"}}))
    done = run_cli(path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "http.disable_store" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "name, value",
    [
        ("GRAPHDOCK_SQLITE_CHECKPOINTS", "threads"),
        ("N_JOBS_PER_WORKER", "ten"),
        ("GRAPHDOCK_EVENT_MEMORY_MB", "lots"),
    ],
)
def test_cli_bad_setting_in_the_environment_names_it_and_exits_2(tmp_path, name, value):
    path = write_app(tmp_path, {"graphs": {"ok": "./app_graphs.py:compiled"}})
    done = run_cli(path, "--no-auth", env={name: value})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad setting" in lines[0]
    assert name in lines[0] and repr(value) in lines[0]


def test_cli_missing_config_exits_2(tmp_path):
    done = run_cli(tmp_path / "absent.json")
    assert done.returncode == 2 and "absent.json" in done.stderr and "(file)" in done.stderr


def test_cli_graph_import_failure_names_graph_and_error(tmp_path):
    path = write_app(
        tmp_path, {"graphs": {"ok": "./app_graphs.py:compiled", "broken": "./broken.py:graph"}}
    )
    (tmp_path / "broken.py").write_text("import this_module_does_not_exist_xyz\n")
    done = run_cli(path)
    assert done.returncode == 2
    assert "'broken'" in done.stderr and "ModuleNotFoundError" in done.stderr
    assert "this_module_does_not_exist_xyz" in done.stderr
    assert "Traceback" not in done.stderr


async def test_server_builds_factory_graphs_per_run_from_config(sdk):
    from graphdock.server.services.graphs import system_assistant_id

    system = await sdk.assistants.get(system_assistant_id("factory"))
    assert system["description"] == "built per run by a factory"  # the object form's description
    default = await sdk.runs.wait(None, "factory", input={"messages": []})
    assert default["messages"][-1]["content"] == "hi"
    hola = await sdk.assistants.create("factory", context={"greeting": "hola"})
    result = await sdk.runs.wait(None, hola["assistant_id"], input={"messages": []})
    assert result["messages"][-1]["content"] == "hola"
    per_run = await sdk.runs.wait(
        None, "factory", input={"messages": []}, config={"configurable": {"greeting": "hey"}}
    )
    assert per_run["messages"][-1]["content"] == "hey"


def test_start_up_prints_graphdocks_lines_not_alembics(tmp_path):
    """At the default log level a person sees graphdock's start-up lines, not a page of
    Alembic's migration chatter."""
    config = write_app(tmp_path, {"graphs": {"g": "./app_graphs.py:compiled"}})
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphdock.cli", "serve", "--no-auth", "--config", str(config),
         "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Application startup complete" in line or len(lines) > 200:
                break
    finally:
        proc.terminate()
        proc.wait(15)
    output = "".join(lines)
    assert "Application startup complete" in output, output
    assert "graphdock: serving 1 graph(s)" in output
    assert "alembic" not in output.lower(), output
