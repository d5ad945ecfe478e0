"""Noise levels per local day by energetic averaging: L_day, L_evening, L_night, L_den and the DPCM day/night.

Periods (Europe/Rome local time) come from `schemas/air_quality_limits.yaml`:
D.Lgs. 194/2005 day 06-20, evening 20-22, night 22-06; DPCM 14/11/1997 day
06-22, night 22-06. The day-evening-night period of day D runs from 06:00 D to
06:00 D+1, so the night of D is 22:00 D to 06:00 D+1 (the decree's definition),
and the DPCM night is attributed to the day on which it starts, the same way.

Each reading is the LAeq over its reporting interval and belongs to the period
holding its timestamp. A period's level is 10·lg(mean(10^(L/10))) over its
readings (readings are equally long, so the plain mean of energies is the
time-weighted one); it is valid when the readings cover `min_share` (75 %) of
the period's real length (7 or 9 hours for a night across a DST change).
L_den = 10·lg((14·10^(Ld/10) + 2·10^((Le+5)/10) + 8·10^((Ln+10)/10)) / 24),
weights being the periods' nominal hours, valid when all three periods are.
A per-day L_den is a pipeline aggregate: the directive's L_den is yearly.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

from iotorino.indicators.limits import NoiseRules, Period

NS = 1_000_000_000


@dataclass(frozen=True)
class PeriodLevel:
    """One period of one day: its L_Aeq (dB(A)) when `valid`, else None; `coverage` 0-1; its UTC bounds (ns)."""

    name: str
    start_ns: int
    end_ns: int
    readings: int
    coverage: float
    valid: bool
    level: float | None


@dataclass(frozen=True)
class NoiseDay:
    """A unit's day: the D.Lgs. 194/2005 periods, L_den, and the DPCM day and night."""

    day: date
    den: dict[str, PeriodLevel]
    lden: float | None
    dpcm: dict[str, PeriodLevel]


def energetic_mean(levels: Sequence[float]) -> float | None:
    """10·lg of the mean of 10^(L/10): the level of the steady sound with the same energy."""
    if not levels:
        return None
    return 10 * math.log10(sum(10 ** (level / 10) for level in levels) / len(levels))


def bounds(day: date, period: Period, tz: ZoneInfo) -> tuple[int, int]:
    """UTC ns bounds of `period` of local `day`; a period ending at or before its start ends on the next day."""
    start = datetime.combine(day, time(period.start_hour), tz)
    end_day = day + timedelta(days=1) if period.end_hour <= period.start_hour else day
    end = datetime.combine(end_day, time(0), tz) + timedelta(hours=period.end_hour) if period.end_hour == 24 \
        else datetime.combine(end_day, time(period.end_hour), tz)
    return _ns(start), _ns(end)


def den_window(day: date, rules: NoiseRules) -> tuple[int, int]:
    """The UTC ns span a day's noise indicators read: the earliest period start to the latest period end."""
    tz = ZoneInfo(rules.time_zone)
    spans = [bounds(day, p, tz) for p in (*rules.den, *rules.dpcm)]
    return min(s for s, _ in spans), max(e for _, e in spans)


def period_level(name: str, start_ns: int, end_ns: int, times_ns: Sequence[int], levels: Sequence[float],
                 interval_s: int, min_share: float) -> PeriodLevel:
    """The L_Aeq of [start, end) from readings sorted by time (`times_ns`, `levels` in dB)."""
    lo, hi = bisect_left(times_ns, start_ns), bisect_left(times_ns, end_ns)
    inside = levels[lo:hi]
    coverage = min(1.0, len(inside) * interval_s * NS / (end_ns - start_ns))
    valid = bool(inside) and coverage >= min_share - 1e-12
    return PeriodLevel(name, start_ns, end_ns, len(inside), coverage, valid, energetic_mean(inside) if valid else None)


def lden(l_day: float, l_evening: float, l_night: float, rules: NoiseRules) -> float:
    """L_den from the three period levels with the rules' penalties and nominal hours (14/2/8 in Italy)."""
    levels = {"day": l_day, "evening": l_evening, "night": l_night}
    total = sum(p.nominal_hours for p in rules.den)
    energy = sum(p.nominal_hours * 10 ** ((levels[p.name] + p.penalty_db) / 10) for p in rules.den)
    return 10 * math.log10(energy / total)


def noise_day(day: date, times_ns: Sequence[int], levels: Sequence[float], interval_s: int, rules: NoiseRules) -> NoiseDay:
    """All of a unit's noise levels for local `day` from its LAeq readings, sorted by time, over `den_window`."""
    tz = ZoneInfo(rules.time_zone)

    def levels_of(periods: Sequence[Period]) -> dict[str, PeriodLevel]:
        return {
            p.name: period_level(p.name, *bounds(day, p, tz), times_ns, levels, interval_s, rules.min_share)
            for p in periods
        }

    den = levels_of(rules.den)
    value = None
    if all(den[p.name].valid for p in rules.den):
        value = lden(den["day"].level, den["evening"].level, den["night"].level, rules)
    return NoiseDay(day, den, value, levels_of(rules.dpcm))


def _ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


@dataclass(frozen=True)
class YearToDate:
    """A unit's long-term levels from 1 January to a day: each D.Lgs. 194/2005 period's level over the year's
    valid days (energetic mean of the daily levels), its share of days, and L_den from them."""

    days: int
    levels: dict[str, float | None]
    capture: dict[str, float]
    lden: float | None

    @property
    def min_capture(self) -> float:
        """The lowest period capture: the share L_den rests on."""
        return min(self.capture.values()) if self.capture else 0.0


def year_to_date(daily: Sequence[dict[str, float | None]], days: int, rules: NoiseRules) -> YearToDate:
    """Long-term levels from the valid daily period levels of the year so far (`daily`: one mapping
    {period name: level or None} per day with data; `days`: the days elapsed since 1 January).

    Every day period lasts the same nominal hours, so the energetic mean of the daily levels is the
    level of the whole period over those days. A period's yearly level is valid when it is valid on
    `rules.min_share` (75 %) of the elapsed days; L_den when all three are.
    """
    levels: dict[str, float | None] = {}
    capture: dict[str, float] = {}
    for p in rules.den:
        valid = [d[p.name] for d in daily if d.get(p.name) is not None]
        capture[p.name] = len(valid) / days if days else 0.0
        ok = bool(valid) and capture[p.name] >= rules.min_share - 1e-12
        levels[p.name] = energetic_mean(valid) if ok else None
    value = None
    if all(levels[p.name] is not None for p in rules.den):
        value = lden(levels["day"], levels["evening"], levels["night"], rules)
    return YearToDate(days, levels, capture, value)

