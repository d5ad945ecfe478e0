"""Independent recomputation of the indicators, written the plain way: loops over minutes, hours and days.

Nothing here imports `iotorino.indicators`; the rules are restated from the
texts (docs/indicators.md) so that a slip in the library shows up as a difference.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
UTC = timezone.utc


def local_hours(day: date) -> list[datetime]:
    """UTC starts of every hour of local day `day` (23, 24 or 25 of them)."""
    start = datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(UTC)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=ROME).astimezone(UTC)
    hours = []
    t = start
    while t < end:
        hours.append(t)
        t += timedelta(hours=1)
    return hours


def hourly_values(readings: list[tuple[datetime, float]], day: date, step_min: int) -> list[float | None]:
    """Per hour of `day`: the mean if at least 45 minutes are covered (each reading covers `step_min` minutes)."""
    out = []
    for h in local_hours(day):
        covered = set()
        values = []
        for t, v in readings:
            if h <= t < h + timedelta(hours=1):
                values.append(v)
                for m in range(step_min):
                    minute = t + timedelta(minutes=m)
                    if minute < h + timedelta(hours=1):
                        covered.add(minute)
        out.append(sum(values) / len(values) if len(covered) >= 45 else None)
    return out


def daily_mean(hours: list[float | None]) -> float | None:
    """Mean of the valid hours if there are enough: 18 on a 23- or 24-hour day, 19 on a 25-hour day."""
    need = 19 if len(hours) == 25 else 18
    valid = [v for v in hours if v is not None]
    if len(valid) < need:
        return None
    return sum(valid) / len(valid)


def exceeds(value: float, limit: int) -> bool:
    """Rounded to whole units, half up, then strictly above."""
    return int(value + 0.5) > limit


def count_above(values: list[float | None], limit: int) -> int:
    n = 0
    for v in values:
        if v is not None and exceeds(v, limit):
            n += 1
    return n


def nth_highest(values: list[float | None], allowed: int) -> float:
    """The (allowed + 1)-th highest valid value: on 365 values, the one a count-based limit turns on."""
    ordered = sorted((v for v in values if v is not None), reverse=True)
    return ordered[allowed]


def energetic(levels: list[float]) -> float:
    total = 0.0
    for level in levels:
        total += 10 ** (level / 10)
    return 10 * math.log10(total / len(levels))


def lden(l_day: float, l_evening: float, l_night: float) -> float:
    """D.Lgs. 194/2005: 14 h day, 2 h evening (+5 dB), 8 h night (+10 dB)."""
    return 10 * math.log10(
        (14 * 10 ** (l_day / 10) + 2 * 10 ** ((l_evening + 5) / 10) + 8 * 10 ** ((l_night + 10) / 10)) / 24
    )


def period_level(readings: list[tuple[datetime, float]], start_local: datetime, end_local: datetime,
                 step_min: int) -> tuple[float | None, float]:
    """(level, coverage) of [start, end) local: energetic mean if readings cover 75 % of its real length."""
    start, end = start_local.astimezone(UTC), end_local.astimezone(UTC)
    inside = [v for t, v in readings if start <= t < end]
    minutes = (end - start).total_seconds() / 60
    coverage = min(1.0, len(inside) * step_min / minutes)
    return (energetic(inside) if inside and coverage >= 0.75 else None), coverage
