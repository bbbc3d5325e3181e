"""Wiring: which adapter serves which port, decided once at start-up from the settings."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from graphdock._version import __version__
from graphdock.server.config import Config, apply_env, load_config, webhook_signing_key
from graphdock.server.container import Services
from graphdock.server.executor.runner import RunExecutor
from graphdock.server.executor.worker import WorkerPool
from graphdock.server.services import clock
from graphdock.server.services.assistants import AssistantService
from graphdock.server.services.crons import CronService
from graphdock.server.services.graphs import GraphRegistry
from graphdock.server.services.runs import RunService
from graphdock.server.services.scheduler import CronScheduler
from graphdock.server.services.store import StoreService
from graphdock.server.services.sweeper import TtlSweeper, sweep_interval
from graphdock.server.services.thread_stream import ThreadStreamService
from graphdock.server.services.threads import ThreadService
from graphdock.server.services.webhooks import WebhookSender
from graphdock.server.settings import Settings

log = logging.getLogger("graphdock")


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, config: Config | None = None, codec: Any = None
) -> AsyncIterator[Services]:
    """Everything the server needs, opened in order and closed in reverse. `codec`: the
    encryption at rest (else the one the config and environment ask for, if any)."""
    from graphdock.server.backends import open_backend
    from graphdock.server.encryption import load_codec

    config = config or load_config(settings.config_path)
    apply_env(config)
    graphs = GraphRegistry.load(config)
    codec = codec or load_codec(config, settings)
    async with contextlib.AsyncExitStack() as stack:
        backend = await stack.enter_async_context(open_backend(settings, config, codec))
        await _check_encryption(backend.storage, codec)
        storage, bus, checkpointer, store = (
            backend.storage,
            backend.bus,
            backend.checkpointer,
            backend.store,
        )
        webhooks = WebhookSender(
            config.webhooks,
            signing_key=settings.webhook_signing_key or webhook_signing_key(config),
            self_url=_self_url(settings),
        )
        stack.push_async_callback(webhooks.close)
        assistants = AssistantService(storage, graphs, store)
        thread_ttl = config.checkpointer_ttl.default_ttl if config.checkpointer_ttl else None
        threads = ThreadService(storage, graphs, checkpointer, store, bus, default_ttl=thread_ttl)
        runs = RunService(
            storage,
            assistants,
            threads,
            bus,
            config.webhooks,
            "webhooks" not in config.http.disabled,
        )
        services = Services(
            settings,
            config,
            graphs,
            storage,
            bus,
            checkpointer,
            store,
            assistants,
            threads,
            runs,
            webhooks,
            ThreadStreamService(runs, threads, bus),
            CronService(storage, assistants, runs, config.webhooks),
            StoreService(store),
        )
        await assistants.ensure_system_assistants()
        await _start_crons_and_ttl(services, stack)
        if settings.jobs:
            if backend.single_process:
                # This process owns the SQLite file: whatever was running when it stopped resumes now.
                resumed = await storage.requeue_expired(
                    clock.now() + timedelta(days=36500), max_attempts=1000
                )
                if resumed:
                    log.info("resuming %d run(s) interrupted by the last shutdown", len(resumed))
            executor = RunExecutor(
                runs, graphs, checkpointer, store, bus, webhooks, run_timeout=settings.run_timeout
            )
            services.pool = WorkerPool(
                storage,
                bus,
                executor,
                concurrency=settings.concurrency,
                poll_interval=settings.poll_interval,
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.max_attempts,
                sole_worker=backend.single_process,
            )
            services.pool.start()
            stack.push_async_callback(services.pool.stop, settings.shutdown_grace)
        yield services


async def _enter_lifespan(
    stack: contextlib.AsyncExitStack,
    lifespan: contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None],
) -> Mapping[str, Any] | None:
    """Enter a Starlette lifespan on `stack`: the state it yields, a mapping or nothing."""
    return await stack.enter_async_context(lifespan)


def _self_url(settings: Settings) -> str:
    """This server's own address, for webhooks given as a path: GRAPHDOCK_SELF_URL, else
    the port it serves on, over loopback."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return settings.self_url or f"http://{host}:{settings.port}"


async def _check_encryption(storage: Any, codec: Any) -> None:
    """The stored data and the configured encryption must agree before anything is read:
    a wrong key, or none, stops the start (EncryptionSetupError) and changes nothing."""
    from graphdock.server.encryption import check_key

    async with storage.begin() as tx:
        recorded = await tx.get_setting("encryption")
    record = await check_key(codec, recorded)
    if record is not None:
        async with storage.begin() as tx:
            await tx.put_setting("encryption", record)


async def _start_crons_and_ttl(services: Services, stack: contextlib.AsyncExitStack) -> None:
    """The cron scheduler (unless crons are disabled) and the TTL sweeper, both stopped
    before the storage they use closes."""
    settings, config = services.settings, services.config
    if "crons" not in config.http.disabled:
        services.scheduler = CronScheduler(
            services.storage, services.crons, interval=settings.cron_interval
        )
        services.crons.on_change = services.scheduler.wake
        services.scheduler.start()
        stack.push_async_callback(services.scheduler.stop)
    services.sweeper = TtlSweeper(
        services.storage,
        services.threads,
        services.store,
        interval=sweep_interval(config, settings.ttl_sweep_interval),
        limit=config.checkpointer_ttl.sweep_limit if config.checkpointer_ttl else None,
    )
    services.sweeper.start()
    stack.push_async_callback(services.sweeper.stop)


class StartupError(Exception):
    """The server cannot start, told in one line (a user lifespan failed, the encryption
    key does not open the stored data, ...)."""


def create_app(settings: Settings, config: Config | None = None) -> Served:
    """The ASGI app: the API's route groups (each route declares its authorization; a group
    whose `http.disable_*` flag is set is left out), the error handlers, and around them the
    access log, the body-size limit and CORS (outside them, so that even a 401 or 413
    carries the headers a browser needs to read it). A user's `http.app` adds its routes,
    middleware and lifespan (api/custom_app.py); `http.mount_prefix` puts it all under a
    prefix. Raises AuthSetupError, ConfigError or ValueError, with a one-line message, when
    auth, the custom app or the rate limit is misconfigured."""
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware

    from graphdock.server.api import errors, mcp
    from graphdock.server.api.access_log import AccessLog
    from graphdock.server.api.auth import Security
    from graphdock.server.api.caller import Gate
    from graphdock.server.api.groups import route_groups
    from graphdock.server.api.limits import BodyLimit, RateLimiter
    from graphdock.server.api.routes import ui
    from graphdock.server.config import CorsConfig

    loaded = config or load_config(settings.config_path)
    http = loaded.http
    user_app = None
    if http.app:
        from graphdock.server.api.custom_app import load_user_app

        user_app = load_user_app(loaded)
    api = FastAPI(
        title="graphdock",
        version=__version__,
        description="An open LangGraph API server.",
        docs_url=None,  # served by the system router, as public routes
        redoc_url=None,
        openapi_url=None,
    )
    from graphdock.server.encryption import load_codec

    codec = load_codec(loaded, settings)
    api.state.gate = Gate(
        Security.from_config(loaded, settings),
        RateLimiter.parse(settings.rate_limit),
        getattr(codec.cipher, "encryption", None) if codec is not None else None,
    )
    errors.install(api)
    served = [group for group in route_groups() if group.served(http.disabled)]
    api.state.route_groups = {group.name for group in served}
    if settings.dev and "ui" in api.state.route_groups:
        api.include_router(ui.dev_root)  # `/` opens the UI, ahead of the health group's `/`
    for group in served:
        for router in group.routers():
            api.include_router(router)
    cors = http.cors or CorsConfig()
    logging_headers = http.logging_headers or {}
    api.user_middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=cors.allow_origins,
            allow_methods=cors.allow_methods,
            allow_headers=cors.allow_headers,
            allow_credentials=cors.allow_credentials,
            allow_origin_regex=cors.allow_origin_regex,
            expose_headers=cors.expose_headers,
            max_age=cors.max_age,
        ),
        Middleware(
            AccessLog,
            includes=logging_headers.get("includes"),
            excludes=logging_headers.get("excludes"),
        ),
        Middleware(BodyLimit, max_bytes=http.max_request_bytes),
        Middleware(errors.LastResort),
    ]
    if "mcp" not in http.disabled:
        mcp.install(api)
    if user_app is not None:
        from graphdock.server.api.custom_app import merge_user_app

        merge_user_app(api, user_app, loaded)
    from graphdock.server.api.openapi import install_openapi

    install_openapi(api, user_app, loaded)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        state: dict[str, Any] = {}
        async with contextlib.AsyncExitStack() as stack:
            if user_app is not None:  # outside the server's: there before the first run
                try:
                    lifespan_state = await _enter_lifespan(
                        stack, user_app.router.lifespan_context(user_app)
                    )
                    state.update(lifespan_state or {})
                except Exception as exc:
                    raise StartupError(
                        f"http.app: the lifespan of {http.app} failed: {type(exc).__name__}: {exc}"
                    ) from exc
            if settings.ephemeral:  # disable_persistence: removed after everything closed
                import shutil

                stack.callback(shutil.rmtree, settings.data_dir, ignore_errors=True)
            api.state.services = await stack.enter_async_context(
                open_services(settings, loaded, codec)
            )
            await stack.enter_async_context(mcp.serving(api))
            yield state

    outer: Any = api
    if http.mount_prefix:
        outer = _under_prefix(api, http.mount_prefix)
    return Served(outer, api, lifespan)


def _under_prefix(api: FastAPI, prefix: str) -> Any:
    """Everything under `prefix`; the health checks answer at the root too, for load
    balancers that probe `/ok` (as the official server keeps them)."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    from graphdock.server.api.routes import system

    outer = Starlette(
        routes=[
            Route("/", system.root_ok, methods=["GET"]),
            Route("/ok", system.ok, methods=["GET"]),
            Mount(prefix, app=api),
        ]
    )
    outer.state = api.state
    return outer


class Served:
    """What uvicorn serves: the assembled app, and the lifespan protocol, run here so that a
    start that fails is told in one line (`startup_error`) instead of a traceback; the CLI
    then exits with status 2. Other attributes are the API app's (`routes`: the served
    ones, prefix included)."""

    def __init__(self, app: Any, api: FastAPI, lifespan: Any):
        self.app = app
        self.api = api
        self.lifespan = lifespan
        self.startup_error: str | None = None

    @property
    def routes(self) -> list[Any]:
        return self.app.routes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        started = False
        await receive()  # lifespan.startup
        try:
            async with self.lifespan(self.api) as state:
                if state and "state" in scope:
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            if started:
                log.exception("shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": ""})
                return
            self.startup_error = _startup_line(exc)
            print(f"graphdock: {self.startup_error}", file=sys.stderr, flush=True)
            logging.getLogger("uvicorn.error").addFilter(_QuietStartupFailure())
            await send({"type": "lifespan.startup.failed", "message": ""})
            return
        await send({"type": "lifespan.shutdown.complete"})


def _startup_line(exc: BaseException) -> str:
    from graphdock.server.config import ConfigError
    from graphdock.server.encryption import EncryptionSetupError

    if isinstance(exc, StartupError | ConfigError | EncryptionSetupError):
        return str(exc)
    log.error("the server could not start", exc_info=exc)
    return f"the server could not start: {type(exc).__name__}: {exc}"


class _QuietStartupFailure(logging.Filter):
    """uvicorn's own "Application startup failed" line: graphdock said why, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Application startup failed. Exiting."


def app_from_env() -> Served:
    """The factory uvicorn's reloader imports: settings travel in the environment."""
    return create_app(Settings.from_env(os.environ["GRAPHDOCK_SETTINGS"]))
