"""The one place the services read the time, so timestamps are always aware UTC."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
