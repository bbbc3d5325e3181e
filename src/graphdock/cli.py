"""`graphdock dev | serve`: serve the graphs of a langgraph.json over the LangGraph API."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphdock", description="Serve LangGraph graphs over the LangGraph API.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("dev", "serve for development: reloads when your code changes"),
        ("serve", "serve for production: no reload"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--config", default="langgraph.json", help="path to langgraph.json (default: %(default)s)")
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
        p.add_argument("--port", type=int, default=8123, help="port to listen on (default: %(default)s)")
        p.add_argument("--data-dir", default=".graphdock", help="where the SQLite data lives (default: %(default)s)")
        p.add_argument("--n-jobs-per-worker", "--jobs", dest="jobs", type=int, default=None,
                       help="runs executed at once by this process (default: 10)")  # fmt: skip
        p.add_argument("--no-jobs", action="store_true", help="serve the API only; run no graphs here")
        p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
        if name == "dev":
            p.add_argument("--no-reload", action="store_true", help="do not restart when files change")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from graphdock.server.config import ConfigError, apply_env, load_config
    from graphdock.server.services.graphs import GraphLoadError, GraphRegistry
    from graphdock.server.settings import Settings

    config_path = Path(args.config).resolve()
    try:
        config = load_config(config_path)
        apply_env(config)
        graphs = GraphRegistry.load(config)
    except ConfigError as exc:
        print(f"graphdock: bad config: {exc}", file=sys.stderr)
        return 2
    except GraphLoadError as exc:
        print(f"graphdock: {exc}", file=sys.stderr)
        return 2
    settings = Settings(
        config_path=config_path,
        data_dir=Path(args.data_dir).resolve(),
        host=args.host,
        port=args.port,
        reload=args.command == "dev" and not args.no_reload,
        jobs=not args.no_jobs,
    )
    if args.jobs is not None:
        settings.concurrency = args.jobs
    _announce(settings, graphs)
    import uvicorn

    if settings.reload:
        os.environ["GRAPHDOCK_SETTINGS"] = settings.to_env()
        uvicorn.run(
            "graphdock.server.app:app_from_env", factory=True, host=settings.host, port=settings.port,
            reload=True, reload_dirs=[str(config_path.parent)], log_level=args.log_level, access_log=False,
        )  # fmt: skip
        return 0
    from graphdock.server.app import create_app

    app = create_app(settings, config)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, access_log=False)
    return 0


def _announce(settings, graphs) -> None:
    url = f"http://{settings.host}:{settings.port}"
    lines = [
        f"graphdock: serving {len(graphs.ids)} graph(s) from {settings.config_path}",
        *(f"  - {graph_id}" for graph_id in graphs.ids),
        f"  API:   {url}   (docs: {url}/docs)",
        f"  data:  {settings.sqlite_path}",
        f"  runs:  {settings.concurrency} at once" if settings.jobs else "  runs:  none here (--no-jobs)",
        f"  try:   curl -s {url}/runs/wait -H 'content-type: application/json' "
        f"-d '{{\"assistant_id\": \"{graphs.ids[0]}\", \"input\": {{}}}}'",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
