"""Air-quality indicators by the directives' rules: pure functions over hourly statistics.

The chain is: readings → hourly values (valid with 75 % of the hour) → daily
means (valid with 75 % of the day's hours, at least 18) → year-to-date
statistics per limit (exceedances, the percentile that goes with the allowed
count, allowances left, a projection to the year's end, annual means with
their data capture). A value that fails its validity rule is None, and its
capture is always given beside it: an invalid aggregate is never a number.

A period value above a limit is an exceedance when, rounded to the limit's own
numeric precision (half up), it is strictly greater than the limit: 50.4 is not
an exceedance of 50, 50.5 is. Definitions and citations: docs/indicators.md.
"""

from __future__ import annotations

import math
from bisect import insort
from dataclasses import dataclass
from typing import Sequence

from iotorino.indicators.limits import Limit, Validity

HOUR_S = 3600


@dataclass(frozen=True)
class HourValue:
    """One pollutant's hour: its mean when `valid`, else None; `coverage` is the share (0-1) of the hour with data."""

    value: float | None
    coverage: float | None
    valid: bool


@dataclass(frozen=True)
class DayValue:
    """One pollutant's local day: the mean of its valid hours when the day is `valid`, else None."""

    hours_in_day: int
    valid_hours: int
    required_hours: int
    capture: float  # valid hours ÷ hours in the day
    valid: bool
    mean: float | None
    max_hour: float | None  # the highest valid hourly value (None without any)


@dataclass(frozen=True)
class LimitStatus:
    """Where one unit stands against one `limit` in the calendar year so far.

    Periods are hours for hourly and annual limits, days for daily limits.
    `exceedances`, `remaining`, `broken`, `projected` and `percentile_value`
    are None for annual limits; `annual_mean` is None unless the limit is
    annual and the capture reaches the validity share (`valid`).
    """

    limit: Limit
    periods_elapsed: int
    periods_valid: int
    capture: float
    valid: bool
    exceedances: int | None
    remaining: int | None
    broken: bool | None
    projected: float | None
    projected_broken: bool | None
    percentile_value: float | None
    annual_mean: float | None


def hour_value(count: int, mean: float | None, interval_s: int | None, validity: Validity) -> HourValue:
    """An hourly value from the hour's reading `count` and `mean`, each reading covering `interval_s` seconds.

    Coverage is count × interval ÷ 3600, capped at 1; the value is valid from
    `validity.hour_min_share` (75 %: 45 minutes). Unknown interval: invalid, coverage None.
    """
    if not interval_s or interval_s <= 0:
        return HourValue(None, None, False)
    coverage = min(1.0, count * interval_s / HOUR_S)
    valid = count > 0 and mean is not None and coverage >= validity.hour_min_share - 1e-12
    return HourValue(float(mean) if valid else None, coverage, valid)


def required_hours(hours_in_day: int, validity: Validity) -> int:
    """Valid hours a daily mean needs: 75 % of the day's hours, and never fewer than 18 (23 h: 18, 24 h: 18, 25 h: 19)."""
    return max(validity.day_min_hours, math.ceil(validity.day_min_share * hours_in_day - 1e-9))


def day_value(hours: Sequence[float | None], hours_in_day: int, validity: Validity) -> DayValue:
    """The daily mean of a local day's hourly values (None: invalid or missing hour).

    `hours` holds at most `hours_in_day` entries (missing hours may be left out).
    """
    valid = [h for h in hours if h is not None]
    need = required_hours(hours_in_day, validity)
    ok = len(valid) >= need
    return DayValue(
        hours_in_day=hours_in_day,
        valid_hours=len(valid),
        required_hours=need,
        capture=len(valid) / hours_in_day,
        valid=ok,
        mean=sum(valid) / len(valid) if ok else None,
        max_hour=max(valid) if valid else None,
    )


def exceeds(value: float, limit_value: float) -> bool:
    """Whether `value` exceeds `limit_value` at the limit's numeric precision (rounded half up, then strictly above)."""
    digits = _decimals(limit_value)
    scale = 10**digits
    return math.floor(value * scale + 0.5) / scale > limit_value


def nearest_rank(values: Sequence[float], percentile: float) -> float | None:
    """The `percentile` (0-100) of `values` by nearest rank: sorted ascending, rank k = q·N rounded half up (1..N).

    Decision 97/101/EC's method; on 365 values the 90.4th percentile is the 36th highest.
    """
    return _ranked(sorted(values), percentile)


def exceedance_floor(limit_value: float) -> float:
    """The smallest value that `exceeds` `limit_value`: the limit plus half a unit of its last digit."""
    return limit_value + 0.5 / 10 ** _decimals(limit_value)


def limit_status(limit: Limit, values: Sequence[float | None], periods_in_year: int, validity: Validity) -> LimitStatus:
    """`limit`'s standing for the year so far from its period `values` (one per elapsed period, None: invalid).

    Hourly and annual limits take hourly values, daily limits daily means.
    The projection adds, to the exceedances so far, the rate among valid periods
    times the periods left in the year (`periods_in_year` − elapsed).
    """
    return limit_statuses(limit, values, [len(values)], periods_in_year, validity)[0]


def limit_statuses(limit: Limit, values: Sequence[float | None], ends: Sequence[int], periods_in_year: int,
                   validity: Validity) -> list[LimitStatus]:
    """`limit_status` after each of the first `ends[i]` periods (ends ascending), in one pass over `values`.

    A backfill asks for the end of every day of the year at once instead of
    recomputing the year so far day by day.
    """
    floor = exceedance_floor(limit.value)
    ordered: list[float] = []  # the valid values so far, sorted (percentiles)
    total, count, valid, at = 0.0, 0, 0, 0
    out = []
    for end in ends:
        for v in values[at:end]:
            if v is None:
                continue
            valid += 1
            total += v
            if v >= floor:
                count += 1
            if limit.percentile is not None:
                insort(ordered, v)
        at = end
        ranked = _ranked(ordered, limit.percentile) if limit.percentile is not None else None
        out.append(standing(limit, end, valid, count, total, ranked, periods_in_year, validity))
    return out


def standing(limit: Limit, end: int, valid: int, count: int, total: float, percentile_value: float | None,
             periods_in_year: int, validity: Validity) -> LimitStatus:
    """`limit`'s status after `end` periods from their tallies: `valid` values summing (in period order) to
    `total`, `count` of them exceeding, and the nearest-rank `percentile_value` of the valid values."""
    allowed = limit.allowed if limit.allowed is not None else 0
    capture = valid / end if end else 0.0
    capture_ok = end > 0 and capture >= validity.year_min_share - 1e-12
    if limit.averaging == "year":
        mean = total / valid if valid and capture_ok else None
        return LimitStatus(limit, end, valid, capture, capture_ok, None, None, None, None, None, None, mean)
    projected = count + count / valid * max(0, periods_in_year - end) if valid else None
    return LimitStatus(
        limit, end, valid, capture, capture_ok,
        exceedances=count,
        remaining=max(0, allowed - count),
        broken=count > allowed,
        projected=projected,
        projected_broken=None if projected is None else exceeds(projected, allowed),
        percentile_value=percentile_value,
        annual_mean=None,
    )


def _ranked(ordered: list[float], percentile: float) -> float | None:
    if not ordered:
        return None
    k = math.floor(percentile / 100 * len(ordered) + 0.5)
    return ordered[min(len(ordered), max(1, k)) - 1]


def _decimals(number: float) -> int:
    text = repr(float(number))
    if "e" in text or "E" in text:
        return 6
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return len(frac)
