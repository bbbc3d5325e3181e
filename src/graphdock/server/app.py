"""Wiring: which adapter serves which port, decided once at start-up from the settings."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta

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
    settings: Settings, config: Config | None = None
) -> AsyncIterator[Services]:
    """Everything the server needs, opened in order and closed in reverse."""
    from graphdock.server.backends import open_backend

    config = config or load_config(settings.config_path)
    apply_env(config)
    graphs = GraphRegistry.load(config)
    async with contextlib.AsyncExitStack() as stack:
        backend = await stack.enter_async_context(open_backend(settings, config))
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
        assistants = AssistantService(storage, graphs)
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
            )
            services.pool.start()
            stack.push_async_callback(services.pool.stop, settings.shutdown_grace)
        yield services


def _self_url(settings: Settings) -> str:
    """This server's own address, for webhooks given as a path: GRAPHDOCK_SELF_URL, else
    the port it serves on, over loopback."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return os.environ.get("GRAPHDOCK_SELF_URL") or f"http://{host}:{settings.port}"


async def _start_crons_and_ttl(services: Services, stack: contextlib.AsyncExitStack) -> None:
    """The cron scheduler (unless crons are disabled) and the TTL sweeper, both stopped
    before the storage they use closes."""
    settings, config = services.settings, services.config
    services.store_service = StoreService(services.store)
    services.crons = CronService(
        services.storage, services.assistants, services.runs, config.webhooks
    )
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
    )
    services.sweeper.start()
    stack.push_async_callback(services.sweeper.stop)


def create_app(settings: Settings, config: Config | None = None) -> FastAPI:
    """The ASGI app: the API's routers (each route declares its authorization), the error
    handlers, and around them the body-size limit and CORS (outermost, so that even a 401
    or 413 carries the headers a browser needs to read it). Raises AuthSetupError or
    ValueError, with a one-line message, when auth or the rate limit is misconfigured."""
    from starlette.middleware.cors import CORSMiddleware

    from graphdock.server.api import a2a, errors, mcp
    from graphdock.server.api.auth import Security
    from graphdock.server.api.caller import Gate
    from graphdock.server.api.limits import BodyLimit, RateLimiter
    from graphdock.server.api.routes import (
        assistants,
        crons,
        runs,
        store,
        system,
        thread_stream,
        threads,
        ui,
    )
    from graphdock.server.config import CorsConfig

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async with open_services(settings, config) as services, mcp.serving(app):
            app.state.services = services
            yield

    loaded = config or load_config(settings.config_path)
    app = FastAPI(
        title="graphdock",
        version=__version__,
        description="An open LangGraph API server.",
        lifespan=lifespan,
        docs_url=None,  # served by the system router, as public routes
        redoc_url=None,
        openapi_url=None,
    )
    app.state.gate = Gate(
        Security.from_config(loaded, os.environ),
        RateLimiter.parse(os.environ.get("GRAPHDOCK_RATE_LIMIT")),
    )
    errors.install(app)
    disabled = loaded.http.disabled
    routers = []
    if settings.dev and "ui" not in disabled:
        routers.append(ui.dev_root)  # ahead of system's `/`, which answers like /ok
    routers += [
        system.router,
        assistants.router,
        threads.router,
        runs.router,
        runs.stateless,
        thread_stream.router,
    ]
    if "crons" not in disabled:
        routers.append(crons.router)
    if "store" not in disabled:
        routers.append(store.router)
    if "ui" not in disabled:
        routers.append(ui.router)
    if "a2a" not in disabled:
        routers.append(a2a.router)
    if "mcp" not in disabled:
        mcp.install(app)
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=loaded.http.max_request_bytes)
    cors = loaded.http.cors or CorsConfig()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors.allow_origins,
        allow_methods=cors.allow_methods,
        allow_headers=cors.allow_headers,
        allow_credentials=cors.allow_credentials,
        allow_origin_regex=cors.allow_origin_regex,
        expose_headers=cors.expose_headers,
        max_age=cors.max_age,
    )
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn's reloader imports: settings travel in the environment."""
    return create_app(Settings.from_env(os.environ["GRAPHDOCK_SETTINGS"]))
