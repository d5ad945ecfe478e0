"""Local days (Europe/Rome) as UTC windows: a day has 23, 24 or 25 hours.

The portal publishes days as people in Turin live them, so every daily export
covers local midnight to local midnight. Europe/Rome's offsets are whole hours,
so local hours and UTC hours share their boundaries: a day is a list of UTC
hours, 23 of them on the last Sunday of March and 25 on the last Sunday of October.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from iotorino.core import times

LOCAL_TZ = ZoneInfo("Europe/Rome")
HOUR_NS = 3_600 * 1_000_000_000


@dataclass(frozen=True)
class DayWindow:
    """One local day: `day`, and its UTC bounds `start` (inclusive) and `end` (exclusive)."""

    day: date
    start: datetime
    end: datetime

    # Computed once per window (a year's indicators ask a day's bounds hundreds of thousands of times).
    @cached_property
    def start_ns(self) -> int:
        """Start as UTC epoch nanoseconds."""
        return to_ns(self.start)

    @cached_property
    def end_ns(self) -> int:
        """End as UTC epoch nanoseconds."""
        return to_ns(self.end)

    @cached_property
    def hours(self) -> int:
        """Number of hours in the day (23, 24 or 25)."""
        return (self.end_ns - self.start_ns) // HOUR_NS

    def hour_starts_ns(self) -> list[int]:
        """UTC epoch nanoseconds of every hour's start, in order."""
        return [self.start_ns + i * HOUR_NS for i in range(self.hours)]


@lru_cache(maxsize=1024)
def local_day(day: date) -> DayWindow:
    """The UTC window of local day `day` in Europe/Rome (windows are immutable: a day's is made once)."""
    start = datetime.combine(day, time(0), LOCAL_TZ).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ).astimezone(timezone.utc)
    return DayWindow(day, start, end)


def local_date_of(moment: datetime) -> date:
    """The Europe/Rome calendar date of an aware `moment`."""
    return moment.astimezone(LOCAL_TZ).date()


def to_ns(moment: datetime) -> int:
    """Aware datetime → UTC epoch nanoseconds (exact, no float rounding)."""
    return times.datetime_ns(moment)


def local_label(time_ns: int) -> str:
    """ISO 8601 local time with its offset, e.g. '2026-10-25T02:00:00+01:00' (unambiguous on DST days)."""
    moment = datetime.fromtimestamp(time_ns // 1_000_000_000, timezone.utc).astimezone(LOCAL_TZ)
    return moment.isoformat()


def parse_day(text: str) -> date:
    """'YYYY-MM-DD' → date; `ConfigError` naming the value otherwise."""
    from iotorino.core.errors import ConfigError

    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError("date", f"{text!r} is not a calendar date", "YYYY-MM-DD, e.g. 2026-11-21") from None
