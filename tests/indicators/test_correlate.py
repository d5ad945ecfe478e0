"""District profiles, differences from the district and lagged correlations, against a plain recomputation.

The expected numbers are computed here with loops over labelled hours and
dicts keyed by timestamp (and numpy's corrcoef), not with the library's pandas
path; the week of the autumn DST change (25 October 2026) and missing hours
are part of every case.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from iotorino.indicators import correlate

ROME = ZoneInfo("Europe/Rome")
UTC = timezone.utc
DST_WEEK = [date(2026, 10, 19) + timedelta(days=i) for i in range(8)]  # Mon 19 .. Mon 26; Sun 25 has 25 hours
SPRING_DAY = date(2026, 3, 29)  # 23 hours


def utc_hours(days):
    """Every UTC hour start of the local days, in order (23, 24 or 25 per day)."""
    start = datetime(days[0].year, days[0].month, days[0].day, tzinfo=ROME).astimezone(UTC)
    last = days[-1] + timedelta(days=1)
    end = datetime(last.year, last.month, last.day, tzinfo=ROME).astimezone(UTC)
    t, out = start, []
    while t < end:
        out.append(t)
        t += timedelta(hours=1)
    return out


def frame(units, days, value, drop=lambda unit, t: False):
    """Hourly rows like the published datasets: unit_id, date_observed_from (UTC), local_time_from, value."""
    rows = []
    for unit in units:
        for t in utc_hours(days):
            if drop(unit, t):
                continue
            rows.append({"unit_id": unit, "date_observed_from": pd.Timestamp(t),
                         "local_time_from": t.astimezone(ROME).isoformat(), "v": value(unit, t)})
    return pd.DataFrame(rows)


def expected_profiles(df, energetic):
    """{(unit, day type, hour): mean} by plain loops over the labels."""
    groups: dict = {}
    for unit, label, v in zip(df["unit_id"], df["local_time_from"], df["v"]):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        local = datetime.fromisoformat(label)
        kind = "weekend" if local.weekday() >= 5 else "weekday"
        groups.setdefault((unit, kind, local.hour), []).append(v)
    if energetic:
        return {k: 10 * math.log10(sum(10 ** (x / 10) for x in vs) / len(vs)) for k, vs in groups.items()}
    return {k: sum(vs) / len(vs) for k, vs in groups.items()}


def level(unit, t):
    """A noise-like level: 55-75 dB with a daily cycle, one unit louder."""
    hour = t.astimezone(ROME).hour
    return 55 + 15 * math.sin(math.pi * hour / 24) + (5 if unit == "U3" else 0) + (t.day % 3)


def test_profiles_over_the_dst_week_with_missing_hours_match_a_plain_recomputation():
    gone = lambda unit, t: unit == "U2" and (t.hour % 7 == 0 or t.day == 21)  # noqa: E731 - missing hours, a whole day
    df = frame(["U1", "U2", "U3"], DST_WEEK, level, drop=gone)
    df.loc[df.index[::11], "v"] = np.nan  # and invalid hours published empty
    for energetic in (False, True):
        got = correlate.profiles(df, "unit_id", "v", energetic=energetic)
        want = expected_profiles(df, energetic)
        assert got.shape == (3, 48)
        for (unit, kind, hour), value in want.items():
            assert got.loc[unit, (kind, hour)] == pytest.approx(value, abs=1e-9)
        assert int(got.notna().sum().sum()) == len(want)
    # The 25-hour Sunday: its two 02:00 hours both count for hour 2 of the weekend.
    sunday_2 = [v for label, v, u in zip(df["local_time_from"], df["v"], df["unit_id"])
                if u == "U1" and label.startswith("2026-10-25T02") and not math.isnan(v)]
    assert len(sunday_2) == 2


def test_energetic_profile_is_not_the_arithmetic_one():
    df = pd.DataFrame({"unit_id": ["U1", "U1"], "local_time_from": ["2026-10-19T08:00:00+02:00", "2026-10-20T08:00:00+02:00"],
                       "v": [60.0, 80.0]})
    got = correlate.profiles(df, "unit_id", "v", energetic=True).loc["U1", ("weekday", 8)]
    assert got == pytest.approx(77.0329, abs=1e-4)  # 10·lg((10^6 + 10^8)/2), not 70


def test_spring_day_has_no_hour_two():
    df = frame(["U1"], [SPRING_DAY], lambda u, t: 10.0)
    got = correlate.profiles(df, "unit_id", "v")
    assert len(df) == 23 and math.isnan(got.loc["U1", ("weekend", 2)]) and got.loc["U1", ("weekend", 3)] == 10.0


def test_district_profile_pools_every_hour_and_the_median_is_per_hour():
    districts = {"U1": 1, "U2": 1, "U3": 1, "U4": 2}
    gone = lambda unit, t: unit == "U2" and t.hour < 6  # noqa: E731
    df = frame(list(districts), DST_WEEK, level, drop=gone)
    got = correlate.district_profiles(df, "unit_id", "v", districts, energetic=True)
    pooled = df.assign(unit_id=df["unit_id"].map(districts))
    for (district, kind, hour), value in expected_profiles(pooled, energetic=True).items():
        assert got.loc[district, (kind, hour)] == pytest.approx(value, abs=1e-9)
    units = correlate.profiles(df, "unit_id", "v", energetic=True)
    medians = correlate.median_profiles(units, districts)
    per_unit = expected_profiles(df, energetic=True)
    for kind in correlate.DAY_TYPES:
        for hour in range(24):
            values = [per_unit[(u, kind, hour)] for u in ("U1", "U2", "U3") if (u, kind, hour) in per_unit]
            assert medians.loc[1, (kind, hour)] == pytest.approx(statistics.median(values), abs=1e-9)


def test_difference_from_the_district_is_the_rms_against_the_median_profile_hand_worked():
    # Three units of district 1 with flat weekday profiles 10, 12 and 20 (weekend missing): the median
    # profile is 12 everywhere, so U3 differs by 8 (RMS of 24 hours of 8), U1 by 2, U2 by 0.
    rows = []
    for unit, value in (("U1", 10.0), ("U2", 12.0), ("U3", 20.0)):
        for hour in range(24):
            rows.append({"unit_id": unit, "local_time_from": f"2026-10-21T{hour:02d}:00:00+02:00", "v": value})
    rows.append({"unit_id": "U4", "local_time_from": "2026-10-21T08:00:00+02:00", "v": 99.0})  # alone, one hour
    units = correlate.profiles(pd.DataFrame(rows), "unit_id", "v")
    districts = {"U1": 1, "U2": 1, "U3": 1, "U4": 2}
    got = {d.site: d for d in correlate.differences(units, districts)}
    assert [d.site for d in correlate.differences(units, districts)] == ["U3", "U1", "U2", "U4"]
    assert got["U3"].rms == pytest.approx(8.0) and got["U3"].relative == pytest.approx(8 / 12) and got["U3"].hours == 24
    assert got["U1"].rms == pytest.approx(2.0) and got["U2"].rms == pytest.approx(0.0)
    assert got["U4"].rms is None and got["U4"].hours == 1


def test_difference_with_missing_hours_matches_numpy():
    districts = {"U1": 3, "U2": 3, "U3": 3}
    gone = lambda unit, t: unit == "U1" and t.astimezone(ROME).hour in (1, 2, 3)  # noqa: E731
    df = frame(list(districts), DST_WEEK, level, drop=gone)
    units = correlate.profiles(df, "unit_id", "v", energetic=True)
    per_unit = expected_profiles(df, energetic=True)
    got = {d.site: d for d in correlate.differences(units, districts)}
    for unit in districts:
        diffs, base = [], []
        for kind in correlate.DAY_TYPES:
            for hour in range(24):
                values = [per_unit[(u, kind, hour)] for u in districts if (u, kind, hour) in per_unit]
                if (unit, kind, hour) in per_unit and values:
                    median = statistics.median(values)
                    diffs.append(per_unit[(unit, kind, hour)] - median)
                    base.append(median)
        assert got[unit].hours == len(diffs) == (42 if unit == "U1" else 48)
        assert got[unit].rms == pytest.approx(float(np.sqrt(np.mean(np.square(diffs)))), abs=1e-9)
        assert got[unit].relative == pytest.approx(got[unit].rms / float(np.mean(base)), abs=1e-12)


def series(values: dict) -> pd.Series:
    """A series indexed by UTC hour start in ns."""
    return pd.Series(list(values.values()), index=[int(t.timestamp()) * 1_000_000_000 for t in values])


def test_lag_of_an_indoor_series_following_the_outdoor_one_by_three_hours_over_the_dst_week():
    rng = random.Random(7)
    hours = utc_hours(DST_WEEK)
    outdoor = {t: 10 + 5 * math.sin(i / 5) + rng.gauss(0, 1) for i, t in enumerate(hours)}
    indoor = {t: 0.8 * outdoor[t - timedelta(hours=3)] + rng.gauss(0, 0.3) for t in hours[3:]}
    for t in hours[40:52]:  # missing hours in the middle of the week
        indoor.pop(t, None)
    got = correlate.lagged_correlation(series(indoor), series(outdoor))
    assert got.lag_h == 3
    # Pairs built by looking up timestamps, correlated by numpy.
    x = [indoor[t] for t in indoor if t - timedelta(hours=3) in outdoor]
    y = [outdoor[t - timedelta(hours=3)] for t in indoor if t - timedelta(hours=3) in outdoor]
    assert got.pairs == len(x) and got.r == pytest.approx(float(np.corrcoef(x, y)[0, 1]), abs=1e-12)
    x0 = [indoor[t] for t in indoor if t in outdoor]
    y0 = [outdoor[t] for t in indoor if t in outdoor]
    assert got.pairs_at_0 == len(x0) and got.r_at_0 == pytest.approx(float(np.corrcoef(x0, y0)[0, 1]), abs=1e-12)
    assert correlate.reading(got) == "follows"


def test_missing_hours_are_not_closed_up_by_shifting_positions():
    # Outdoor has a 5-hour hole; indoor equals outdoor one hour earlier. Shifting by position across the
    # hole would pair wrong hours; on the real hour grid the lag-1 correlation is exactly 1.
    hours = utc_hours(DST_WEEK[:3])
    outdoor = {t: float((i * 37) % 23) for i, t in enumerate(hours) if not 20 <= i < 25}
    indoor = {t: outdoor[t - timedelta(hours=1)] for t in hours if t - timedelta(hours=1) in outdoor}
    got = correlate.lagged_correlation(series(indoor), series(outdoor))
    assert got.lag_h == 1 and got.r == pytest.approx(1.0) and got.pairs == len(indoor)


def test_too_few_hours_and_a_negative_lag():
    hours = utc_hours(DST_WEEK[:2])
    outdoor = {t: float((i * 13) % 17) for i, t in enumerate(hours)}
    short = {t: v for t, v in list(outdoor.items())[:10]}
    unknown = correlate.lagged_correlation(series(short), series(outdoor))
    assert unknown.r is None and unknown.lag_h is None and correlate.reading(unknown) == "unknown"
    leading = {t: outdoor[t + timedelta(hours=2)] for t in hours if t + timedelta(hours=2) in outdoor}
    assert correlate.lagged_correlation(series(leading), series(outdoor)).lag_h == -2


def test_pearson_matches_numpy_and_refuses_constant_series():
    rng = random.Random(3)
    x = [rng.random() for _ in range(50)]
    y = [v * 2 + rng.random() for v in x]
    assert correlate.pearson(x, y) == pytest.approx(float(np.corrcoef(x, y)[0, 1]), abs=1e-12)
    assert correlate.pearson([1, 1, 1], [1, 2, 3]) is None and correlate.pearson([1], [2]) is None


def test_nearest_unit_by_great_circle_distance():
    # One degree of latitude is R·π/180 = 111,195.08 m on the mean sphere.
    assert correlate.distance_m(7.68, 45.0, 7.68, 46.0) == pytest.approx(111_195.08, abs=0.01)
    # Along a parallel at 45°, one degree of longitude is about cos(45°) of that (haversine, not planar).
    assert correlate.distance_m(7.0, 45.0, 8.0, 45.0) == pytest.approx(78_626.2, abs=1)
    places = [("B", 7.70, 45.07), ("A", 7.69, 45.07), ("C", 7.60, 45.00)]
    site, d = correlate.nearest(7.688, 45.07, places)
    assert site == "A" and d == pytest.approx(correlate.distance_m(7.688, 45.07, 7.69, 45.07))
    assert correlate.nearest(7.0, 45.0, []) is None


def test_hourly_series_averages_the_rooms_of_an_hour():
    t0 = pd.Timestamp("2026-10-25T00:00:00Z")
    df = pd.DataFrame({"school_id": ["S", "S", "S", "T"], "date_observed_from": [t0, t0, t0 + pd.Timedelta(hours=1), t0],
                       "co2_mean": [800.0, 1000.0, np.nan, 5.0]})
    got = correlate.hourly_series(df, "co2_mean", "school_id", "S")
    assert list(got.index) == [t0.value] and got.iloc[0] == 900.0
