"""Degree days, the degree-day model and heating where it should be off, recomputed independently."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from iotorino.schools import heating

ROME = ZoneInfo("Europe/Rome")


def local_hours(first: date, days: int) -> pd.DatetimeIndex:
    start = datetime(first.year, first.month, first.day, tzinfo=ROME).astimezone(timezone.utc)
    end_day = pd.Timestamp(first) + pd.Timedelta(days=days)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=ROME).astimezone(timezone.utc)
    return pd.date_range(start, end, freq="h", inclusive="left")


@pytest.mark.parametrize("day, inside", [
    (date(2025, 10, 14), False), (date(2025, 10, 15), True), (date(2026, 1, 10), True),
    (date(2026, 4, 15), True), (date(2026, 4, 16), False), (date(2026, 7, 1), False),
])
def test_heating_season_of_climate_zone_e(day, inside):
    assert heating.in_heating_season(day) is inside


def test_degree_days_across_the_season_start():
    index = local_hours(date(2025, 10, 12), 6)  # 12..17 October: the season starts on the 15th
    temps = pd.Series([8.0 + (t.hour % 24) / 4 for t in index.to_pydatetime()], index=index)
    temps.iloc[:8] = np.nan  # 12 October keeps 16 hours: no mean, no degree days
    means = heating.daily_mean_temperature(temps)
    gg = heating.degree_days(means)
    for day in means.index:
        hours = [v for t, v in temps.items() if t.to_pydatetime().astimezone(ROME).date() == day and not np.isnan(v)]
        if len(hours) < 18:
            assert np.isnan(gg[day])
            continue
        mean = sum(hours) / len(hours)
        expected = max(0.0, 20.0 - mean) if day >= date(2025, 10, 15) else 0.0
        assert gg[day] == pytest.approx(expected)
    assert gg[date(2025, 10, 14)] == 0.0 and gg[date(2025, 10, 15)] > 0


def test_fit_recovers_a_known_line():
    days = pd.Index([date(2026, 1, d) for d in range(1, 29)])
    gg = pd.Series(np.linspace(5, 15, len(days)), index=days)
    kwh = 100.0 + 30.0 * gg
    model = heating.fit(kwh, gg)
    assert model.intercept == pytest.approx(100.0) and model.slope == pytest.approx(30.0)
    assert model.r2 == pytest.approx(1.0) and model.days == 28
    assert heating.fit(kwh.iloc[:5], gg.iloc[:5]) is None


def test_findings_name_each_kind_of_waste():
    index = local_hours(date(2026, 4, 10), 8)  # Fri 10 .. Fri 17 April 2026: the season ends on the 15th
    kwh = pd.Series(0.0, index=index)
    locals_ = [t.to_pydatetime().astimezone(ROME) for t in index]
    for i, t in enumerate(locals_):
        if t.date() == date(2026, 4, 10) and 5 <= t.hour < 16:   # started at 05:00, opens at 08:00
            kwh.iloc[i] = 20.0
        if t.date() == date(2026, 4, 11) and 8 <= t.hour < 12:   # Saturday
            kwh.iloc[i] = 10.0
        if t.date() == date(2026, 4, 14) and 7 <= t.hour < 15:   # warm day
            kwh.iloc[i] = 10.0
        if t.date() == date(2026, 4, 16) and 7 <= t.hour < 15:   # out of season
            kwh.iloc[i] = 10.0
        if t.date() == date(2026, 4, 13) and 7 <= t.hour < 15:   # normal school day
            kwh.iloc[i] = 10.0
    days = sorted({t.date() for t in locals_})
    mean_c = pd.Series([10.0] * len(days), index=pd.Index(days))
    mean_c[date(2026, 4, 14)] = 18.5
    kinds = {d: ("weekend" if d.weekday() >= 5 else "school") for d in days}
    opening = {d: (8 * 60 if kinds[d] == "school" else None) for d in days}
    found = heating.heating_findings(kwh, mean_c, kinds, opening, on_threshold_kwh=5.0)
    got = {(f.kind, f.day) for f in found}
    assert got == {("early_start", date(2026, 4, 10)), ("weekend", date(2026, 4, 11)),
                   ("warm_day", date(2026, 4, 14)), ("out_of_season", date(2026, 4, 16))}
    early = next(f for f in found if f.kind == "early_start")
    assert early.detail == "05:00" and early.kwh == pytest.approx(220.0)


def test_weather_normalised_change():
    assert heating.normalised_change(900.0, 90.0, 1000.0, 80.0) == pytest.approx((10.0 / 12.5) - 1)
    assert heating.normalised_change(900.0, 0.0, 1000.0, 80.0) is None
