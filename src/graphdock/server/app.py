"""Wiring: which adapter serves which port, decided once at start-up from the settings."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from graphdock import __version__
from graphdock.server.config import Config, apply_env, load_config
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
from graphdock.server.services.threads import ThreadService
from graphdock.server.services.webhooks import WebhookSender
from graphdock.server.settings import Settings

log = logging.getLogger("graphdock")


@dataclass
class Services:
    settings: Settings
    config: Config
    graphs: GraphRegistry
    storage: Any
    bus: Any
    checkpointer: Any
    store: Any
    assistants: AssistantService
    threads: ThreadService
    runs: RunService
    webhooks: WebhookSender
    pool: WorkerPool | None = None
    crons: CronService | None = None
    store_service: StoreService | None = None  # the API's view of `store`
    scheduler: CronScheduler | None = None
    sweeper: TtlSweeper | None = None


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
        webhooks = WebhookSender(config.webhooks)
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
    from graphdock.server.api import errors, middleware
    from graphdock.server.api.routes import assistants, crons, runs, store, system, threads

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        async with open_services(settings, config) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="graphdock",
        version=__version__,
        description="An open LangGraph API server.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    for router in (system.router, assistants.router, threads.router, runs.router, runs.stateless):
        app.include_router(router)
    loaded = config or load_config(settings.config_path)
    middleware.install(app, loaded)  # auth, API keys, CORS, size and rate limits
    disabled = loaded.http.disabled
    if "crons" not in disabled:
        app.include_router(crons.router)
    if "store" not in disabled:
        app.include_router(store.router)
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn's reloader imports: settings travel in the environment."""
    return create_app(Settings.from_env(os.environ["GRAPHDOCK_SETTINGS"]))
