"""Time as the engines see it: a clock is a function returning an aware UTC datetime."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


EARLIEST_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC)  # no market data or prediction predates this


def timestamp_problem(value: datetime, now: datetime, max_ahead: timedelta) -> str | None:
    """Why a posted point in time is unusable (before 2000, or more than max_ahead after now), or None."""
    if value < EARLIEST_TIMESTAMP:
        return f"Must be at or after {EARLIEST_TIMESTAMP.isoformat()}."
    if value > now + max_ahead:
        return (f"Is in the future: at most {int(max_ahead.total_seconds())} s after the server's clock "
                f"({now.isoformat(timespec='seconds')}) is accepted.")
    return None
