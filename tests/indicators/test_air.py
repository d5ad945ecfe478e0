"""Air-quality indicators against the plain recomputation in `reference` (minutes, hours, days in loops)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from iotorino.indicators import air, limits
from tests.indicators import reference as ref

RULES = limits.default()
VALIDITY = RULES.validity
STEP_MIN = 5  # the street units' reporting interval (hardware/profiles.yaml)


def readings_for(day: date, minutes_per_hour: dict[int, int], seed: int, base: float = 40.0) -> list[tuple[datetime, float]]:
    """Readings every 5 minutes in each hour (by index in the local day) for the given covered minutes (default 60)."""
    rng = random.Random(seed)
    out = []
    for i, h in enumerate(ref.local_hours(day)):
        for m in range(0, minutes_per_hour.get(i, 60), STEP_MIN):
            out.append((h + timedelta(minutes=m), round(base + rng.uniform(-15, 25), 1)))
    return out


def library_hours(readings: list[tuple[datetime, float]], day: date) -> list[float | None]:
    """The library's hourly values: the store's per-hour count and mean, as the export gets them, into `hour_value`."""
    groups: dict[datetime, list[float]] = {}
    for t, v in readings:
        groups.setdefault(t.replace(minute=0, second=0), []).append(v)
    out = []
    for h in ref.local_hours(day):
        values = groups.get(h, [])
        hv = air.hour_value(len(values), sum(values) / len(values) if values else None, STEP_MIN * 60, VALIDITY)
        out.append(hv.value)
    return out


def test_an_hour_needs_45_minutes():
    day = date(2026, 11, 10)
    readings = readings_for(day, {0: 45, 1: 40, 2: 0, 3: 50}, seed=1)
    got = library_hours(readings, day)
    want = ref.hourly_values(readings, day, STEP_MIN)
    assert [g is None for g in got] == [w is None for w in want]
    assert got[:4] == [pytest.approx(want[0]), None, None, pytest.approx(want[3])]
    assert got[4:] == pytest.approx(want[4:])


@pytest.mark.parametrize(
    "day, hours, missing, valid",
    [
        (date(2026, 11, 10), 24, 0, True),
        (date(2026, 11, 11), 24, 6, True),  # 18 valid hours: just enough
        (date(2026, 11, 12), 24, 7, False),  # 17 valid hours: an invalid day
        (date(2026, 3, 29), 23, 5, True),  # spring DST day: 23 hours, 18 valid
        (date(2026, 3, 29), 23, 6, False),
        (date(2026, 10, 25), 25, 6, True),  # autumn DST day: 25 hours, 19 valid (75 % of 25 = 18.75)
        (date(2026, 10, 25), 25, 7, False),  # 18 valid hours are not enough on a 25-hour day
    ],
)
def test_daily_means_with_invalid_and_dst_days(day, hours, missing, valid):
    # The missing hours carry 30 minutes of data: data, but not enough for a valid hour.
    readings = readings_for(day, {i: 30 for i in range(missing)}, seed=day.toordinal() + missing)
    got_hours = library_hours(readings, day)
    want_hours = ref.hourly_values(readings, day, STEP_MIN)
    assert len(got_hours) == len(want_hours) == hours
    got = air.day_value(got_hours, hours, VALIDITY)
    want = ref.daily_mean(want_hours)
    assert got.valid is valid is (want is not None)
    assert got.valid_hours == hours - missing
    assert got.capture == pytest.approx((hours - missing) / hours)
    if valid:
        assert got.mean == pytest.approx(want)
    else:
        assert got.mean is None  # published as invalid, never as a number


def test_required_hours_by_day_length():
    assert [air.required_hours(n, VALIDITY) for n in (23, 24, 25)] == [18, 18, 19]


def simulated_year(seed: int, gap_share: float) -> tuple[list[list[float | None]], list[int]]:
    """Hourly PM10-like values for every local day of 2026 (None: invalid hours, `gap_share` of them)."""
    rng = random.Random(seed)
    days, lengths = [], []
    d = date(2026, 1, 1)
    while d.year == 2026:
        n = len(ref.local_hours(d))
        level = rng.uniform(15, 70)
        days.append([None if rng.random() < gap_share else round(level + rng.uniform(-10, 10), 1) for _ in range(n)])
        lengths.append(n)
        d += timedelta(days=1)
    return days, lengths


def test_pm10_year_to_date_counts_percentile_and_allowance():
    days, lengths = simulated_year(seed=11, gap_share=0.05)
    limit = next(x for x in RULES.regime("dir2008_50").limits if x.id == "pm10_daily")
    for upto in (120, 365):
        daily_lib = [air.day_value(h, n, VALIDITY).mean for h, n in zip(days[:upto], lengths[:upto])]
        daily_ref = [ref.daily_mean(h) for h in days[:upto]]
        assert [v is None for v in daily_lib] == [v is None for v in daily_ref]
        status = air.limit_status(limit, daily_lib, 365, VALIDITY)
        count = ref.count_above(daily_ref, 50)
        assert status.exceedances == count
        assert status.remaining == max(0, 35 - count)
        assert status.broken is (count > 35)
        valid = sum(1 for v in daily_ref if v is not None)
        assert status.periods_valid == valid and status.periods_elapsed == upto
        assert status.projected == pytest.approx(count + count / valid * (365 - upto))
    # On a complete year of valid days, the 90.4th percentile is the 36th highest daily mean.
    full = [air.day_value(h, n, VALIDITY).mean for h, n in zip(*simulated_year(seed=12, gap_share=0.0))]
    status = air.limit_status(limit, full, 365, VALIDITY)
    assert status.percentile_value == ref.nth_highest([ref.daily_mean(h) for h in simulated_year(12, 0.0)[0]], 35)
    assert (status.percentile_value > 50) is status.broken


def test_no2_hourly_count_and_its_percentile():
    days, _ = simulated_year(seed=13, gap_share=0.02)
    hours = [None if v is None else v * 3.2 for day in days for v in day]  # NO2-like: some hours above 200
    limit = next(x for x in RULES.regime("dir2008_50").limits if x.id == "no2_hourly")
    status = air.limit_status(limit, hours, 8760, VALIDITY)
    assert status.exceedances == ref.count_above(hours, 200) > 18
    assert status.broken and status.remaining == 0
    assert status.periods_elapsed == 8760  # a local year has 8760 hours: March's lost hour comes back in October
    valid = [v for v in hours if v is not None]
    k = round(0.998 * len(valid) + 1e-9)
    assert status.percentile_value == sorted(valid)[k - 1]


def test_annual_mean_is_invalid_below_90_percent_capture():
    limit = next(x for x in RULES.regime("dir2008_50").limits if x.id == "no2_annual")
    enough = [30.0] * 90 + [None] * 10
    short = [30.0] * 89 + [None] * 11
    assert air.limit_status(limit, enough, 8760, VALIDITY).annual_mean == 30.0
    status = air.limit_status(limit, short, 8760, VALIDITY)
    assert status.annual_mean is None and status.valid is False and status.capture == pytest.approx(0.89)


@pytest.mark.parametrize("value, limit, over", [(50.4, 50, False), (50.5, 50, True), (50.0, 50, False), (200.49, 200, False),
                                                (4.5, 4, True), (4.49, 4, False)])
def test_exceedance_is_strictly_above_at_the_limits_precision(value, limit, over):
    assert air.exceeds(value, limit) is over is ref.exceeds(value, limit)


def test_each_limits_percentile_is_the_one_after_its_allowance():
    """The data file's percentile of a counted limit picks the (allowed + 1)-th highest of a full year."""
    for regime in RULES.regimes:
        for limit in regime.limits:
            if limit.allowed is None:
                assert limit.percentile is None
                continue
            n = 365 if limit.averaging == "day" else 8760
            values = [float(i) for i in range(n)]
            assert air.nearest_rank(values, limit.percentile) == ref.nth_highest(values, limit.allowed), limit


def test_a_backfill_pass_gives_every_days_standing():
    days, lengths = simulated_year(seed=14, gap_share=0.04)
    daily = [air.day_value(h, n, VALIDITY).mean for h, n in zip(days, lengths)]
    limit = next(x for x in RULES.regime("dir2024_2881_2030").limits if x.id == "pm10_daily")
    ends = list(range(1, 366))
    statuses = air.limit_statuses(limit, daily, ends, 365, VALIDITY)
    for end in (1, 45, 200, 365):
        status = statuses[end - 1]
        so_far = [ref.daily_mean(h) for h in days[:end]]
        assert status.exceedances == ref.count_above(so_far, 45)
        assert status.periods_valid == sum(v is not None for v in so_far)
        assert status == air.limit_status(limit, daily[:end], 365, VALIDITY)
