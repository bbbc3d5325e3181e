"""Which driver errors mean "PostgreSQL cannot be reached right now", whichever driver raised
them: asyncpg under SQLAlchemy (graphdock's tables), psycopg (checkpoints and the store).

Those become `StorageUnavailable`; every other database error (a constraint, a bad value)
stays what it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphdock.server.ports.errors import StorageUnavailable

# SQLSTATEs of a server that is going away or not ready: the connection exception class (08),
# admin / crash shutdown, "cannot connect now" (starting up, shutting down, in recovery).
_GONE = ("57P01", "57P02", "57P03")
_DRIVERS = ("sqlalchemy", "asyncpg", "psycopg", "psycopg_pool")


def _is_gone(exc: BaseException) -> bool:
    if isinstance(exc, OSError):  # refused, reset, timed out: asyncpg lets these through raw
        return True
    if getattr(exc, "connection_invalidated", False):  # SQLAlchemy saw the connection die
        return True
    module = (type(exc).__module__ or "").split(".")[0]
    names = {cls.__name__ for cls in type(exc).__mro__}
    if module == "psycopg_pool" and "PoolTimeout" in names:
        return True
    if module == "asyncpg" and names & {
        "ConnectionDoesNotExistError",
        "PostgresConnectionError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "InterfaceError",
    }:
        return True
    if module == "psycopg":
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate is None:  # raised by the client: no connection, or it broke
            return "OperationalError" in names or "InterfaceError" in names
        return sqlstate.startswith("08") or sqlstate in _GONE
    return False


def unavailable(exc: BaseException) -> StorageUnavailable | None:
    """A StorageUnavailable for `exc` (or the driver error under it), or None if it is some
    other error. Only drivers' errors are looked into: an error of graphdock's own that
    happened to be raised from a network error is not the database's."""
    seen = 0
    current: BaseException | None = exc  # then the error under it, and so on down
    while current is not None and seen < 6:
        exc = current
        if isinstance(exc, StorageUnavailable):
            return exc
        if _is_gone(exc):
            return StorageUnavailable(_reason(exc))
        if (type(exc).__module__ or "").split(".")[0] not in _DRIVERS:
            return None
        current = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return None


@contextlib.contextmanager
def raising_unavailable() -> Iterator[None]:
    """Inside, a driver's "cannot reach the server" error comes out as StorageUnavailable."""
    try:
        yield
    except Exception as exc:
        if (down := unavailable(exc)) is not None and down is not exc:
            raise down from exc
        raise


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        first = "connection refused"
    return first[:200]
