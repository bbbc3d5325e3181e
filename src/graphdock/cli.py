"""`graphdock dev | serve | worker`: serve the graphs of a langgraph.json over the LangGraph API.

* `dev` / `serve`: the API (and, unless `--no-jobs`, a pool that executes runs);
  `serve --workers N` starts N `graphdock worker` processes beside an API-only server.
* `worker`: a process that only executes runs, for the scale-out backend (Postgres+Redis).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

# How long an idle keep-alive connection stays open. uvicorn's default (5 s) is shorter than
# clients' pools and load balancers expect: a client reusing a connection at the moment the
# server closes it sees the request fail. 75 s outlasts the usual 60 s idle timeouts.
KEEP_ALIVE_SECONDS = 75


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default="langgraph.json", help="path to langgraph.json (default: %(default)s)"
    )
    p.add_argument(
        "--data-dir",
        default=".graphdock",
        help="where the SQLite data lives (default: %(default)s)",
    )
    p.add_argument("--database-url", default=None,
                   help="PostgreSQL URL (postgresql://user:pass@host:5432/db): scale-out storage "
                        "(default: $DATABASE_URI; none: embedded SQLite)")  # fmt: skip
    p.add_argument("--redis-url", default=None,
                   help="Redis URL (redis://host:6379/0): the event bus shared by all processes "
                        "(default: $REDIS_URI)")  # fmt: skip
    p.add_argument("--n-jobs-per-worker", "--jobs", dest="jobs", type=int, default=None,
                   help="runs executed at once by each process (default: 10)")  # fmt: skip
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphdock", description="Serve LangGraph graphs over the LangGraph API."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("dev", "serve for development: reloads when your code changes"),
        ("serve", "serve for production: no reload"),
    ):
        p = sub.add_parser(name, help=helptext)
        _common(p)
        p.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
        )
        p.add_argument(
            "--port", type=int, default=8123, help="port to listen on (default: %(default)s)"
        )
        p.add_argument(
            "--no-jobs", action="store_true", help="serve the API only; run no graphs here"
        )
        p.add_argument("--no-auth", action="store_true",
                       help="serve without API keys or custom auth (same as GRAPHDOCK_AUTH=off)")  # fmt: skip
        if name == "dev":
            p.add_argument(
                "--no-reload", action="store_true", help="do not restart when files change"
            )
        else:
            p.add_argument("--workers", type=int, default=0,
                           help="start N `graphdock worker` processes beside the API, which then runs "
                                "no graphs itself (needs --database-url and --redis-url)")  # fmt: skip
    p = sub.add_parser("worker", help="execute runs only (scale-out: Postgres + Redis), no API")
    _common(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from graphdock.server.config import ConfigError, apply_env, load_config, webhook_signing_key
    from graphdock.server.services.graphs import GraphLoadError, GraphRegistry
    from graphdock.server.settings import Settings

    config_path = Path(args.config).resolve()
    try:
        config = load_config(config_path)
        apply_env(config)
        webhook_signing_key(config)  # a bad secret stops the start, not the first delivery
        graphs = GraphRegistry.load(config)
    except ConfigError as exc:
        print(f"graphdock: bad config: {exc}", file=sys.stderr)
        return 2
    except GraphLoadError as exc:
        print(f"graphdock: {exc}", file=sys.stderr)
        return 2
    try:
        settings = Settings(config_path=config_path, data_dir=Path(args.data_dir).resolve())
    except ValueError as exc:
        print(f"graphdock: bad setting in the environment: {exc}", file=sys.stderr)
        return 2
    if args.database_url:
        settings.database_url = args.database_url
    if args.redis_url:
        settings.redis_url = args.redis_url
    if args.jobs is not None:
        settings.concurrency = args.jobs
    if args.command == "worker":
        if not settings.database_url:
            print("graphdock: `worker` needs --database-url (or DATABASE_URI)", file=sys.stderr)
            return 2
        return _run_worker(settings, config)
    if config.disable_persistence:
        if settings.database_url:
            print("graphdock: bad config: disable_persistence: cannot be honoured with a "
                  "database (--database-url / DATABASE_URI), which outlives the process",
                  file=sys.stderr)  # fmt: skip
            return 2
        import tempfile

        # Nothing outlives the process: the data lives in a folder removed at stop.
        settings.data_dir = Path(tempfile.mkdtemp(prefix="graphdock-ephemeral-"))
        settings.ephemeral = True
    settings.host, settings.port = args.host, args.port
    settings.dev = args.command == "dev"
    settings.reload = settings.dev and not args.no_reload
    settings.jobs = not args.no_jobs
    workers = getattr(args, "workers", 0) or 0
    if workers:
        if not (settings.database_url and settings.redis_url):
            print("graphdock: --workers needs --database-url and --redis-url", file=sys.stderr)
            return 2
        settings.jobs = False
    auth_line = _check_auth(args, config, settings)
    if auth_line is None:
        return 2
    from graphdock.server.encryption import EncryptionSetupError, load_codec

    try:
        codec = load_codec(config, settings)
    except EncryptionSetupError as exc:
        print(f"graphdock: {exc}", file=sys.stderr)
        return 2
    if codec is not None:
        auth_line += f"\n  data:  encrypted at rest ({codec.scheme})"
    if config.http.app:
        from graphdock.server.api.custom_app import load_user_app

        try:
            load_user_app(config)  # fails here, in one line, rather than in the reloader
        except ConfigError as exc:
            print(f"graphdock: bad config: {exc}", file=sys.stderr)
            return 2
    _announce(settings, graphs, workers, ui="ui" not in config.http.disabled)
    print(auth_line, flush=True)
    import uvicorn

    if settings.reload:
        os.environ["GRAPHDOCK_SETTINGS"] = settings.to_env()
        uvicorn.run(
            "graphdock.server.app:app_from_env", factory=True, host=settings.host, port=settings.port,
            reload=True, reload_dirs=[str(config_path.parent)], log_level=args.log_level, access_log=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )  # fmt: skip
        return 0
    from graphdock.server.app import create_app

    app = create_app(settings, config)
    children = _spawn_workers(args, settings, workers) if workers else []
    try:
        # Open streams get a few seconds to end; then in-flight runs drain (shutdown_grace).
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level,
                    access_log=False, timeout_graceful_shutdown=5,
                    timeout_keep_alive=KEEP_ALIVE_SECONDS)  # fmt: skip
    except SystemExit:
        if app.startup_error is None:
            raise
        return 2  # the server said why, in one line
    finally:
        _stop_workers(children, settings.shutdown_grace + 10)
    return 0


def _run_worker(settings, config) -> int:
    """Execute runs until SIGTERM/SIGINT; then stop claiming and drain within the grace."""
    import asyncio

    from graphdock.server.app import open_services

    settings.jobs = True

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_services(settings, config) as services:
            print(
                f"graphdock worker {os.getpid()}: ready, {settings.concurrency} run(s) at once",
                flush=True,
            )
            await stop.wait()
            logging.getLogger("graphdock").info("stopping: draining in-flight runs")
            if services.pool is not None:
                await services.pool.stop(settings.shutdown_grace)

    asyncio.run(run())
    return 0


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _spawn_workers(args, settings, n: int) -> list[subprocess.Popen]:
    cmd = [sys.executable, "-m", "graphdock.cli", "worker", "--config", str(settings.config_path),
           "--data-dir", str(settings.data_dir), "--log-level", args.log_level,
           "--n-jobs-per-worker", str(settings.concurrency)]  # fmt: skip
    env = {**os.environ, "DATABASE_URI": settings.database_url, "REDIS_URI": settings.redis_url}
    return [
        subprocess.Popen(
            cmd, env=env, preexec_fn=_die_with_parent if sys.platform == "linux" else None
        )
        for _ in range(n)
    ]


def _stop_workers(children: list[subprocess.Popen], timeout: float) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _check_auth(args, config, settings) -> str | None:
    """The startup line about auth, or None (after saying why) when the server must not start:
    `serve` needs API keys or custom auth unless told --no-auth / GRAPHDOCK_AUTH=off."""
    from graphdock.server.api.auth import AuthSetupError, Security
    from graphdock.server.api.limits import RateLimiter

    if args.no_auth:
        settings.auth = "off"  # the settings travel to the reloader's server process
    try:
        security = Security.from_config(config, settings)
        limiter = RateLimiter.parse(settings.rate_limit)
    except (AuthSetupError, ValueError) as exc:
        print(f"graphdock: {exc}", file=sys.stderr)
        return None
    if args.command == "serve" and not security.enabled and not settings.auth_off:
        print(
            "graphdock: serve refuses to start without auth: set GRAPHDOCK_API_KEYS (or "
            "GRAPHDOCK_API_KEYS_FILE), or name a custom auth in langgraph.json (auth.path), "
            "or pass --no-auth to serve without any",
            file=sys.stderr,
        )
        return None
    line = f"  auth:  {security.describe()}"
    if not security.enabled and settings.auth_off:
        line += " (--no-auth / GRAPHDOCK_AUTH=off)"
    if limiter is not None:
        line += f"; rate limit: {limiter.limit} requests per {limiter.period:g} s per caller"
    return line


def _announce(settings, graphs, workers: int = 0, ui: bool = True) -> None:
    url = f"http://{settings.host}:{settings.port}"
    if settings.database_url:
        from sqlalchemy.engine import make_url

        data = make_url(settings.database_url).render_as_string(hide_password=True)
        data += f" + {settings.redis_url or 'no Redis (one process only)'}"
    else:
        data = str(settings.sqlite_path)
        if settings.ephemeral:
            data += "   (disable_persistence: removed when the server stops)"
    if workers:
        runs = f"  runs:  in {workers} worker process(es), {settings.concurrency} at once each"
    elif settings.jobs:
        runs = f"  runs:  {settings.concurrency} at once"
    else:
        runs = "  runs:  none here (--no-jobs)"
    lines = [
        f"graphdock: serving {len(graphs.ids)} graph(s) from {settings.config_path}",
        *(f"  - {graph_id}" for graph_id in graphs.ids),
        f"  API:   {url}   (docs: {url}/docs)",
        f"  UI:    {url}/ui" if ui else "  UI:    off (http.disable_ui)",
        f"  data:  {data}",
        runs,
        f"  try:   curl -s {url}/runs/wait -H 'content-type: application/json' "
        f'-d \'{{"assistant_id": "{graphs.ids[0]}", '
        f'"input": {{"messages": [{{"role": "user", "content": "hi"}}]}}}}\'',
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
