"""One line per request in the `graphdock.access` log: method, path, status, time taken,
and the request headers `http.logging_headers` lets in.

Headers are left out unless an `includes` pattern names them (globs, `x-tenant-*`), and an
`excludes` pattern wins over an include. Credentials (`authorization`, `cookie`,
`x-api-key`, ...) are never logged, whatever the patterns say. Lines are logged at INFO
(`--log-level info`, the default of `graphdock dev`); when the logger would drop them,
nothing is measured.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from typing import Any

from graphdock.server.api.auth import SECRET_HEADERS

log = logging.getLogger("graphdock.access")


class AccessLog:
    def __init__(
        self, app: Any, includes: list[str] | None = None, excludes: list[str] | None = None
    ):
        self.app = app
        self.includes = [p.lower() for p in includes or ()]
        self.excludes = [p.lower() for p in excludes or ()]

    def logged(self, name: str) -> bool:
        if name in SECRET_HEADERS or name == "set-cookie":
            return False
        if any(fnmatch.fnmatchcase(name, p) for p in self.excludes):
            return False
        return any(fnmatch.fnmatchcase(name, p) for p in self.includes)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        done = False

        def write() -> None:
            nonlocal done
            done = True
            ms = (time.perf_counter() - started) * 1000
            headers = {}
            for raw_name, raw_value in scope.get("headers") or ():
                name = raw_name.decode("latin-1").lower()
                if self.logged(name):
                    headers[name] = raw_value.decode("latin-1")
            line = f"{scope['method']} {scope['path']} {status} {ms:.1f}ms"
            log.info(line + f" headers={headers}" if headers else line)

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                write()  # before the client sees the end of the response
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not done:
                write()
