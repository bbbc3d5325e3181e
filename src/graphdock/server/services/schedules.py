"""Cron schedules: checking them, and when they fire next.

Schedules are croniter expressions, as the reference server reads them: 5 fields, or 6
with seconds *last* (`"* * * * * */10"` fires every 10 s), evaluated in the cron's IANA
time zone so that "9 am" stays 9 am across daylight-saving changes. Every instant leaves
here as aware UTC, because that is what storage compares.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from graphdock.server.services.errors import Invalid

SCHEDULE_HELP = (
    "Invalid cron schedule. Ensure the schedule uses the standard cron format "
    "(minute hour day_of_month month day_of_week). Example: '*/5 * * * *' for every 5 minutes."
)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone a schedule runs in (UTC when none was given); 422 naming a bad one."""
    if name is None:
        return ZoneInfo("UTC")
    try:
        if not isinstance(name, str) or not name or name.startswith(("/", ".")):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(
            f"Invalid timezone: '{name}'. Use IANA timezone format (e.g. 'America/New_York')."
        ) from None


def check_schedule(schedule: str, tz: str | None = None) -> None:
    """A 422 that quotes the schedule unless croniter reads it and it fires at least once."""
    if not isinstance(schedule, str) or not croniter.is_valid(schedule):
        raise Invalid(f"Invalid cron schedule: '{schedule}'. Reason: {SCHEDULE_HELP}")
    try:
        next_run(schedule, tz, datetime.now(UTC))
    except CroniterBadDateError:
        raise Invalid(
            f"Invalid cron schedule: '{schedule}'. Reason: it never fires "
            "(no date matches every field)."
        ) from None


def next_run(schedule: str, tz: str | None, after: datetime) -> datetime:
    """The first firing strictly after `after`, as aware UTC."""
    local = after.astimezone(zone(tz))
    fired = croniter(schedule, local).get_next(datetime)
    return fired.astimezone(UTC)


def parse_end_time(raw: str | None) -> datetime | None:
    """An ISO 8601 instant (naive means UTC) as aware UTC; 422 naming a value that is not one."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except (ValueError, TypeError, AttributeError):
        raise Invalid(
            f"Invalid end_time: '{raw}'. Use an ISO 8601 date-time (e.g. '2030-01-01T00:00:00Z')."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
