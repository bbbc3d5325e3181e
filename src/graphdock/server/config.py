"""Reading `langgraph.json`: the same file the official CLI reads.

Every key the official CLI's schema knows is either honoured or refused at start, with one
line that names the file, the key and why (`REFUSED`); none is parsed and then dropped.
Keys nobody knows are warned about (a typo), and a bad value fails fast naming its key.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

log = logging.getLogger("graphdock.config")

KNOWN_TOP_LEVEL_KEYS = {
    "dependencies",
    "graphs",
    "env",
    "store",
    "checkpointer",
    "http",
    "webhooks",
    "auth",
    "encryption",
    "disable_persistence",
    "python_version",
    "$schema",
    # keys graphdock refuses when they ask for something (see REFUSED)
    "pip_config_file",
    "pip_installer",
    "dockerfile_lines",
    "base_image",
    "image_distro",
    "node_version",
    "api_version",
    "keep_pkg_tools",
    "source",
    "_INTERNAL_docker_tag",
    "project_root",
    "package",
    "ui",
    "ui_config",
    "priority",
}

_BUILD_ONLY = (
    "is for `langgraph build` (it shapes a Docker image); graphdock serves from this Python "
    "environment and builds no image, so it would have no effect: remove it, or keep it in "
    "the langgraph.json you build images from"
)

# Keys that ask for something graphdock does not do: a start that sets one (to anything but
# null, false or empty) stops with this reason, rather than run without it.
REFUSED: dict[str, str] = {
    "pip_config_file": _BUILD_ONLY,
    "pip_installer": _BUILD_ONLY,
    "dockerfile_lines": _BUILD_ONLY,
    "base_image": _BUILD_ONLY,
    "image_distro": _BUILD_ONLY,
    "keep_pkg_tools": _BUILD_ONLY,
    "source": _BUILD_ONLY,
    "_INTERNAL_docker_tag": _BUILD_ONLY,
    "project_root": _BUILD_ONLY,
    "package": _BUILD_ONLY,
    "api_version": "pins a version of the official server's image; graphdock is a server of its "
    "own and has no such versions: remove it",
    "node_version": "graphdock runs no JavaScript (JS graphs, JS auth or UI components): remove it",
    "ui": "graphdock does not build or serve generative-UI components (JS/TS bundles): remove it",
    "ui_config": "graphdock does not build generative-UI components (JS/TS bundles): remove it",
    "priority": "graphdock has no run priorities: runs on a thread go in order, threads side "
    "by side; remove it",
    "store.path": "graphdock keeps the store in its own database (SQLite or PostgreSQL); a "
    "custom store is not supported: remove it",
    "checkpointer.path": "graphdock keeps checkpoints in its own database (SQLite or "
    "PostgreSQL); a custom checkpointer is not supported: remove it",
    "checkpointer.backend": "graphdock keeps checkpoints in its own database; only 'default' "
    "is supported",
    "checkpointer.ttl.strategy": "only 'delete' is supported (an expired thread is deleted "
    "with its checkpoints)",
    "auth.allow_langsmith_api_keys": "graphdock cannot verify LangSmith API keys; use API keys "
    "(GRAPHDOCK_API_KEYS) or your own authenticate handler",
}
# A refused key's values that ask for nothing beyond what graphdock does anyway.
REFUSED_UNLESS = {"checkpointer.backend": "default", "checkpointer.ttl.strategy": "delete"}


# Keys each section may hold (the official CLI's); others are warned about, never fatal.
KNOWN_SECTION_KEYS = {
    "store": {"index", "ttl", "path"},
    "store.index": {"embed", "dims", "fields"},
    "store.ttl": {"refresh_on_read", "default_ttl", "sweep_interval_minutes"},
    "checkpointer": {"backend", "path", "ttl", "serde"},
    "checkpointer.ttl": {"strategy", "default_ttl", "sweep_interval_minutes", "sweep_limit"},
    "checkpointer.serde": {"allowed_json_modules", "allowed_msgpack_modules", "pickle_fallback"},
    "encryption": {"path"},
    "http": {
        "app", "cors", "configurable_headers", "logging_headers", "mount_prefix",
        "middleware_order", "enable_custom_route_auth", "max_request_bytes",
        "disable_assistants", "disable_threads", "disable_runs", "disable_store",
        "disable_meta", "disable_ui", "disable_mcp", "disable_a2a", "disable_webhooks",
        "disable_event_streaming", "disable_crons",
    },
    "http.cors": {
        "allow_origins", "allow_methods", "allow_headers", "allow_credentials",
        "allow_origin_regex", "expose_headers", "max_age",
    },
    "webhooks": {"env_prefix", "url", "headers", "allowed_fields", "signing_secret"},
    "webhooks.url": {
        "require_https", "allowed_domains", "allowed_ports", "max_url_length",
        "disable_loopback", "disable_private_ips",
    },
    "auth": {"path", "disable_studio_auth", "openapi", "cache", "allow_langsmith_api_keys"},
    "auth.openapi": {"securitySchemes", "security", "paths"},
    "auth.cache": {"cache_keys", "ttl_seconds", "max_size"},
}  # fmt: skip
# `${{ env.NAME }}` in webhooks.headers (NAME within env_prefix) and webhooks.signing_secret:
# the variable's value.
ENV_TEMPLATE = re.compile(r"\$\{\{\s*env\.([A-Za-z0-9_]+)\s*\}\}")
MIDDLEWARE_ORDERS = ("middleware_first", "auth_first")

# Standard Webhooks secrets: `whsec_` and the base64 of the key; the spec asks for 24 to 64
# random bytes, and a shorter key is refused rather than trusted.
SECRET_PREFIX = "whsec_"
SECRET_MIN_BYTES = 24
MAKE_A_SECRET = (
    "python -c \"import base64, os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
)


class ConfigError(Exception):
    """A config problem, told as one line naming the file and the key."""

    def __init__(self, path: Path | str, key: str, message: str):
        self.path, self.key, self.message = str(path), key, message
        super().__init__(f"{path}: {key}: {message}")


@dataclass
class GraphSpec:
    graph_id: str
    path: str  # "./file.py:attr" or "package.module:attr"
    description: str | None = None


@dataclass
class IndexConfig:
    embed: str
    dims: int
    fields: list[str] | None = None


@dataclass
class TTLConfig:
    default_ttl: float | None = None  # minutes
    refresh_on_read: bool = True
    sweep_interval_minutes: float | None = None
    strategy: str = "delete"
    sweep_limit: int | None = None
    """checkpointer.ttl: at most this many expired threads deleted per sweep."""


@dataclass
class WebhookUrlPolicy:
    require_https: bool = False
    allowed_domains: list[str] | None = None
    allowed_ports: list[int] | None = None
    max_url_length: int = 4096
    disable_loopback: bool = True
    disable_private_ips: bool = True


@dataclass
class WebhooksConfig:
    url: WebhookUrlPolicy = field(default_factory=WebhookUrlPolicy)
    headers: dict[str, str] = field(default_factory=dict)
    env_prefix: str = "LG_WEBHOOK_"
    allowed_fields: list[str] | None = None
    signing_secret: str | None = None  # as written: may hold `${{ env.NAME }}`


@dataclass
class CorsConfig:
    allow_origins: list[str] = field(default_factory=lambda: ["*"])
    allow_methods: list[str] = field(default_factory=lambda: ["*"])
    allow_headers: list[str] = field(default_factory=lambda: ["*"])
    allow_credentials: bool = False
    allow_origin_regex: str | None = None
    expose_headers: list[str] = field(
        default_factory=lambda: ["x-pagination-total", "x-pagination-next", "content-location"]
    )
    max_age: int = 600


@dataclass
class HttpConfig:
    app: str | None = None
    """A Starlette/FastAPI app served beside the API (`./webapp.py:app`)."""
    cors: CorsConfig | None = None
    configurable_headers: dict[str, list[str]] | None = None
    logging_headers: dict[str, list[str]] | None = None
    """Which request headers go into the access log (`includes` / `excludes` globs)."""
    disabled: set[str] = field(default_factory=set)  # e.g. {"store", "crons"}
    max_request_bytes: int | None = None
    mount_prefix: str | None = None
    """Everything is served under this prefix (`/api`); /ok stays at the root too."""
    middleware_order: str = "middleware_first"
    """`middleware_first`: the app's middleware runs before authentication; `auth_first`: after."""
    enable_custom_route_auth: bool = False
    """The app's routes need the same credentials as the API's (else they are public)."""


@dataclass
class AuthCacheConfig:
    """`auth.cache`: `authenticate` results kept per value of these request headers."""

    cache_keys: list[str]
    ttl_seconds: float = 60.0
    max_size: int = 1000


@dataclass
class AuthConfig:
    path: str | None = None
    disable_studio_auth: bool = False
    openapi: dict[str, Any] | None = None
    """Security schemes published in /openapi.json (`securitySchemes`, `security`, `paths`)."""
    cache: AuthCacheConfig | None = None


@dataclass
class SerdeConfig:
    """`checkpointer.serde`: what langgraph's serializer may rebuild from a checkpoint."""

    pickle_fallback: bool = False
    allowed_json_modules: list[tuple[str, ...]] | bool | None = None
    allowed_msgpack_modules: list[tuple[str, ...]] | bool | str | None = "default"
    """`default`: langgraph's own default (LANGGRAPH_STRICT_MSGPACK decides)."""


@dataclass
class Config:
    path: Path
    graphs: list[GraphSpec]
    dependencies: list[Path] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    store_index: IndexConfig | None = None
    store_ttl: TTLConfig | None = None
    checkpointer_ttl: TTLConfig | None = None
    http: HttpConfig = field(default_factory=HttpConfig)
    webhooks: WebhooksConfig | None = None
    auth: AuthConfig | None = None
    checkpointer_serde: SerdeConfig | None = None
    encryption_path: str | None = None
    """`encryption.path`: a `langgraph_sdk.Encryption` object ('./encryption.py:encryption')."""
    disable_persistence: bool = False
    """Nothing outlives the process: the data lives in a temporary folder, removed at stop."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def load_config(path: str | Path) -> Config:
    path = Path(path).resolve()
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            path, "(file)", "no such file; pass --config with the path to your langgraph.json"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "(file)", f"not valid JSON: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: Any, path: Path) -> Config:
    p = _Parser(path)
    if not isinstance(raw, dict):
        raise ConfigError(path, "(file)", "must be a JSON object")
    for key in raw:
        if key not in KNOWN_TOP_LEVEL_KEYS:
            log.warning("%s: unknown key %r is ignored", path, key)
    p.refuse(raw)
    p.python_version(raw.get("python_version"))
    return Config(
        path=path,
        graphs=p.graphs(raw.get("graphs")),
        dependencies=p.dependencies(raw.get("dependencies", [])),
        env=p.env(raw.get("env", {})),
        store_index=p.index(raw.get("store")),
        store_ttl=p.ttl(raw.get("store"), "store.ttl"),
        checkpointer_ttl=p.ttl(raw.get("checkpointer"), "checkpointer.ttl"),
        http=p.http(raw.get("http")),
        webhooks=p.webhooks(raw.get("webhooks")),
        auth=p.auth(raw.get("auth")),
        checkpointer_serde=p.checkpointer(raw.get("checkpointer")),
        encryption_path=p.encryption(raw.get("encryption")),
        disable_persistence=p.flag(raw, "disable_persistence"),
    )


class _Parser:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, message: str) -> NoReturn:
        raise ConfigError(self.path, key, message)

    def obj(self, value: Any, key: str) -> dict:
        """A JSON object; unknown keys of a known section are warned about by name."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, f"must be an object, got {type(value).__name__}")
        known = KNOWN_SECTION_KEYS.get(key)
        if known is not None:
            for name in value:
                if name not in known:
                    log.warning("%s: unknown key '%s.%s' is ignored", self.path, key, name)
        return value

    def flag(self, d: dict, name: str) -> bool:
        value = d.get(name, False)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
        return value

    def typed(self, d: dict, name: str, key: str, kind: type | tuple, default: Any = None) -> Any:
        value = d.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            self.fail(f"{key}.{name}", "must be a number")
        if not isinstance(value, kind):
            want = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            self.fail(f"{key}.{name}", f"must be {want}, got {type(value).__name__}")
        return value

    def str_list(self, d: dict, name: str, key: str) -> list[str] | None:
        value = d.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{key}.{name}", "must be a list of strings")
        return value

    def graphs(self, raw: Any) -> list[GraphSpec]:
        if raw is None:
            self.fail("graphs", "is required: map each graph id to './file.py:variable'")
        graphs = self.obj(raw, "graphs")
        if not graphs:
            self.fail("graphs", "must name at least one graph")
        specs = []
        for graph_id, value in graphs.items():
            key = f"graphs.{graph_id}"
            description = None
            if isinstance(value, dict):
                description = self.typed(value, "description", key, str)
                value = value.get("path")
            if not isinstance(value, str) or ":" not in value:
                self.fail(
                    key,
                    "must be './file.py:variable' or 'package.module:variable' (or an object with a 'path')",
                )
            if value.split(":", 1)[0].endswith((".ts", ".js", ".mts", ".cts", ".tsx", ".jsx")):
                self.fail(
                    key, "JavaScript graphs are not supported by graphdock; serve Python graphs"
                )
            specs.append(GraphSpec(graph_id, value, description))
        return specs

    def dependencies(self, raw: Any) -> list[Path]:
        """Local folders go on the import path; a package must already be installed here
        (graphdock installs nothing): one that is not is refused by name."""
        if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
            self.fail("dependencies", "must be a list of paths or package names")
        out = []
        for dep in raw:
            candidate = (self.path.parent / dep).resolve()
            if dep.startswith((".", "/")) or candidate.exists():
                out.append(candidate)
            else:
                self.installed(dep)
        return out

    def installed(self, dep: str) -> None:
        import importlib.metadata

        from packaging.requirements import InvalidRequirement, Requirement

        try:
            requirement = Requirement(dep)
        except InvalidRequirement:
            self.fail("dependencies", f"{dep!r} is neither a local folder nor a package name")
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            self.fail(
                "dependencies",
                f"{dep!r} is not installed in this environment, and graphdock installs "
                f"nothing: pip install {requirement.name!r}",
            )
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            self.fail(
                "dependencies", f"{dep!r} is wanted, {requirement.name} {version} is installed"
            )

    def env(self, raw: Any) -> dict[str, str]:
        if isinstance(raw, str):
            env_path = (self.path.parent / raw).resolve()
            if not env_path.exists():
                self.fail("env", f"file {raw!r} does not exist")
            from dotenv import dotenv_values

            return {k: v for k, v in dotenv_values(env_path).items() if v is not None}
        env = self.obj(raw, "env")
        for k, v in env.items():
            if not isinstance(v, (str, int, float, bool)):
                self.fail(f"env.{k}", "must be a string")
        return {k: str(v) for k, v in env.items()}

    def index(self, raw: Any) -> IndexConfig | None:
        store = self.obj(raw, "store")
        self.typed(store, "path", "store", str)
        if store.get("index") is None:
            return None
        index = self.obj(store["index"], "store.index")
        embed = self.typed(index, "embed", "store.index", str)
        dims = self.typed(index, "dims", "store.index", int)
        if not embed:
            self.fail("store.index.embed", "is required ('provider:model' or './file.py:function')")
        if not dims or dims <= 0:
            self.fail("store.index.dims", "is required and must be a positive integer")
        return IndexConfig(
            embed=embed, dims=dims, fields=self.str_list(index, "fields", "store.index")
        )

    def refuse(self, raw: dict) -> None:
        """Stop at the first key that asks for something graphdock does not do (REFUSED)."""
        for key, reason in REFUSED.items():
            value: Any = raw
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value in (None, False, "", [], {}) or value == REFUSED_UNLESS.get(key):
                continue
            self.fail(key, reason)

    def python_version(self, raw: Any) -> None:
        """The graphs were written for at least this Python: an older one is refused."""
        if raw is None:
            return
        try:
            wanted = tuple(int(part) for part in str(raw).split("."))
        except ValueError:
            self.fail("python_version", f"{raw!r} is not a version like '3.11'")
        if sys.version_info[: len(wanted)] < wanted:
            running = ".".join(map(str, sys.version_info[:3]))
            self.fail("python_version", f"asks for Python {raw}; this is Python {running}")

    def checkpointer(self, raw: Any) -> SerdeConfig | None:
        """graphdock stores checkpoints itself (SQLite or Postgres); `serde` shapes how."""
        section = self.obj(raw, "checkpointer")
        self.typed(section, "backend", "checkpointer", str, "default")
        if section.get("serde") is None:
            return None
        serde = self.obj(section["serde"], "checkpointer.serde")
        cfg = SerdeConfig(
            pickle_fallback=self.typed(serde, "pickle_fallback", "checkpointer.serde", bool, False)
        )
        for name in ("allowed_json_modules", "allowed_msgpack_modules"):
            if name not in serde:
                continue
            value = serde[name]
            ok = (
                value is None
                or isinstance(value, bool)
                or (
                    isinstance(value, list)
                    and all(
                        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value
                    )
                )
            )
            if not ok or value is False:
                self.fail(
                    f"checkpointer.serde.{name}",
                    "must be true, null, or a list of [module, ..., name] lists",
                )
            setattr(cfg, name, [tuple(v) for v in value] if isinstance(value, list) else value)
        return cfg

    def ttl(self, raw: Any, key: str) -> TTLConfig | None:
        section = raw if isinstance(raw, dict) else {}  # the section itself is checked elsewhere
        if section.get("ttl") is None:
            return None
        ttl = self.obj(section["ttl"], key)
        strategy = self.typed(ttl, "strategy", key, str, "delete")
        if strategy != "delete":
            self.fail(f"{key}.strategy", "only 'delete' is supported")
        return TTLConfig(
            default_ttl=self.typed(ttl, "default_ttl", key, (int, float)),
            refresh_on_read=self.typed(ttl, "refresh_on_read", key, bool, True),
            sweep_interval_minutes=self.typed(ttl, "sweep_interval_minutes", key, (int, float)),
            strategy=strategy,
            sweep_limit=self.typed(ttl, "sweep_limit", key, int),
        )

    def http(self, raw: Any) -> HttpConfig:
        http = self.obj(raw, "http")
        cfg = HttpConfig(app=self.typed(http, "app", "http", str))
        for name, value in http.items():
            if name.startswith("disable_"):
                if not isinstance(value, bool):
                    self.fail(f"http.{name}", "must be true or false")
                if value:
                    cfg.disabled.add(name.removeprefix("disable_"))
        if http.get("cors") is not None:
            cors = self.obj(http["cors"], "http.cors")
            base = CorsConfig()
            cfg.cors = CorsConfig(
                allow_origins=self.str_list(cors, "allow_origins", "http.cors") or [],
                allow_methods=self.str_list(cors, "allow_methods", "http.cors")
                or base.allow_methods,
                allow_headers=self.str_list(cors, "allow_headers", "http.cors")
                or base.allow_headers,
                allow_credentials=self.typed(cors, "allow_credentials", "http.cors", bool, False),
                allow_origin_regex=self.typed(cors, "allow_origin_regex", "http.cors", str),
                expose_headers=self.str_list(cors, "expose_headers", "http.cors")
                or base.expose_headers,
                max_age=self.typed(cors, "max_age", "http.cors", int, 600),
            )
        if http.get("configurable_headers") is not None:
            ch = self.obj(http["configurable_headers"], "http.configurable_headers")
            cfg.configurable_headers = {
                "includes": self.str_list(ch, "includes", "http.configurable_headers") or [],
                "excludes": self.str_list(ch, "excludes", "http.configurable_headers") or [],
            }
        cfg.max_request_bytes = self.typed(http, "max_request_bytes", "http", int)
        if cfg.app is not None and ":" not in cfg.app:
            self.fail("http.app", "must be './file.py:variable' or 'package.module:variable'")
        prefix = self.typed(http, "mount_prefix", "http", str)
        if prefix is not None and (
            not prefix.startswith("/") or prefix.endswith("/") or prefix == "/"
        ):
            self.fail(
                "http.mount_prefix",
                f"{prefix!r} must start with '/' and not end with one, like '/api'",
            )
        cfg.mount_prefix = prefix
        cfg.enable_custom_route_auth = self.typed(
            http, "enable_custom_route_auth", "http", bool, False
        )
        order = self.typed(http, "middleware_order", "http", str, "middleware_first")
        if order not in MIDDLEWARE_ORDERS:
            self.fail("http.middleware_order", f"must be one of {', '.join(MIDDLEWARE_ORDERS)}")
        cfg.middleware_order = order
        if http.get("logging_headers") is not None:
            lh = self.obj(http["logging_headers"], "http.logging_headers")
            cfg.logging_headers = {
                "includes": self.str_list(lh, "includes", "http.logging_headers") or [],
                "excludes": self.str_list(lh, "excludes", "http.logging_headers") or [],
            }
        return cfg

    def encryption(self, raw: Any) -> str | None:
        if raw is None:
            return None
        section = self.obj(raw, "encryption")
        ref = self.typed(section, "path", "encryption", str)
        if not ref or ":" not in ref:
            self.fail(
                "encryption.path",
                "is required: './encryption.py:variable' naming a langgraph_sdk Encryption",
            )
        return ref

    def webhooks(self, raw: Any) -> WebhooksConfig | None:
        if raw is None:
            return None
        wh = self.obj(raw, "webhooks")
        cfg = WebhooksConfig(
            env_prefix=self.typed(wh, "env_prefix", "webhooks", str, "LG_WEBHOOK_"),
            allowed_fields=self.str_list(wh, "allowed_fields", "webhooks"),
        )
        headers = self.obj(wh.get("headers"), "webhooks.headers")
        for k, v in headers.items():
            if not isinstance(v, str):
                self.fail(f"webhooks.headers.{k}", "must be a string")
            for name in ENV_TEMPLATE.findall(v):
                if not name.startswith(cfg.env_prefix):
                    self.fail(
                        f"webhooks.headers.{k}",
                        f"names the variable {name}, outside webhooks.env_prefix "
                        f"({cfg.env_prefix!r}): only those may be sent",
                    )
        cfg.headers = headers
        cfg.signing_secret = self.typed(wh, "signing_secret", "webhooks", str)  # see below
        if wh.get("url") is not None:
            url = self.obj(wh["url"], "webhooks.url")
            # A `url` block opts into the strict policy: https and no loopback unless relaxed.
            cfg.url = WebhookUrlPolicy(
                require_https=self.typed(url, "require_https", "webhooks.url", bool, True),
                allowed_domains=self.str_list(url, "allowed_domains", "webhooks.url"),
                allowed_ports=self.typed(url, "allowed_ports", "webhooks.url", list),
                max_url_length=self.typed(url, "max_url_length", "webhooks.url", int, 4096),
                disable_loopback=self.typed(url, "disable_loopback", "webhooks.url", bool, True),
                disable_private_ips=self.typed(
                    url, "disable_private_ips", "webhooks.url", bool, True
                ),
            )
        return cfg

    def auth(self, raw: Any) -> AuthConfig | None:
        if raw is None:
            return None
        auth = self.obj(raw, "auth")
        if self.typed(auth, "allow_langsmith_api_keys", "auth", bool):
            self.fail(
                "auth.allow_langsmith_api_keys",
                "graphdock cannot verify LangSmith API keys; use API keys "
                "(GRAPHDOCK_API_KEYS) or your own authenticate handler",
            )
        cfg = AuthConfig(
            path=self.typed(auth, "path", "auth", str),
            disable_studio_auth=self.typed(auth, "disable_studio_auth", "auth", bool, False),
        )
        if cfg.path is not None and ":" not in cfg.path:
            self.fail("auth.path", "must be './file.py:variable' or 'package.module:variable'")
        if auth.get("openapi") is not None:
            openapi = self.obj(auth["openapi"], "auth.openapi")
            schemes = self.obj(openapi.get("securitySchemes"), "auth.openapi.securitySchemes")
            for name, scheme in schemes.items():
                if not isinstance(scheme, dict):
                    self.fail(f"auth.openapi.securitySchemes.{name}", "must be an object")
            security = openapi.get("security")
            if security is not None and not (
                isinstance(security, list) and all(isinstance(s, dict) for s in security)
            ):
                self.fail("auth.openapi.security", "must be a list of {scheme: [scopes]} objects")
            for path, methods in self.obj(openapi.get("paths"), "auth.openapi.paths").items():
                if not isinstance(methods, dict):
                    self.fail(
                        f"auth.openapi.paths.{path}", "must map HTTP methods to security lists"
                    )
            cfg.openapi = openapi
        if auth.get("cache") is not None:
            cache = self.obj(auth["cache"], "auth.cache")
            keys = self.str_list(cache, "cache_keys", "auth.cache")
            if not keys:
                self.fail(
                    "auth.cache.cache_keys", "must name the request headers results are cached by"
                )
            ttl = self.typed(cache, "ttl_seconds", "auth.cache", (int, float), 60)
            size = self.typed(cache, "max_size", "auth.cache", int, 1000)
            if ttl <= 0 or size <= 0:
                self.fail("auth.cache", "ttl_seconds and max_size must be positive")
            cfg.cache = AuthCacheConfig([k.lower() for k in keys], float(ttl), size)
        return cfg


def expand_env(template: str) -> str:
    """`${{ env.NAME }}` replaced by the variable's value ("" when it is not set)."""
    return ENV_TEMPLATE.sub(lambda m: os.environ.get(m.group(1), ""), template)


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (`whsec_<base64>`); ValueError says what
    is wrong with it, without repeating it."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with '{SECRET_PREFIX}' (make one with: {MAKE_A_SECRET})")
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"must be '{SECRET_PREFIX}' followed by base64 (make one with: {MAKE_A_SECRET})"
        ) from None
    if len(key) < SECRET_MIN_BYTES:
        raise ValueError(
            f"holds {len(key)} bytes; a signing key needs at least {SECRET_MIN_BYTES} "
            f"(make one with: {MAKE_A_SECRET})"
        )
    return key


def webhook_signing_key(config: Config) -> bytes | None:
    """The key that signs webhook deliveries, from `webhooks.signing_secret` with its
    `${{ env.NAME }}` filled in (so call this after `apply_env`); None: unsigned."""
    secret = config.webhooks.signing_secret if config.webhooks else None
    if secret is None:
        return None
    key = "webhooks.signing_secret"
    names = [m.group(1) for m in ENV_TEMPLATE.finditer(secret)]
    unset = [name for name in names if not os.environ.get(name)]
    if unset:
        raise ConfigError(config.path, key, f"refers to {', '.join(unset)}, which is not set")
    try:
        return signing_key(expand_env(secret))
    except ValueError as exc:
        where = f" (filled in from {', '.join(names)})" if names else ""
        raise ConfigError(config.path, key, f"{exc}{where}") from None


def apply_env(config: Config) -> None:
    """Put the config's `env` into the process environment; variables already set win."""
    for k, v in config.env.items():
        os.environ.setdefault(k, v)
