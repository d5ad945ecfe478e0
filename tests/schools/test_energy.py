"""School energy KPIs against an independent recomputation (plain loops over local hours)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from iotorino.core import school_calendar as cal
from iotorino.schools import energy

ROME = ZoneInfo("Europe/Rome")
WEEKDAYS_8_TO_1630 = energy.OpeningHours.parse(
    {d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri")})


@pytest.fixture(scope="module")
def turin():
    return cal.load()


def hourly(start_local: datetime, end_local: datetime, kwh_at) -> pd.Series:
    """kWh per UTC hour from `start_local` to `end_local`, valued by kwh_at(local datetime)."""
    start = start_local.replace(tzinfo=ROME).astimezone(timezone.utc)
    end = end_local.replace(tzinfo=ROME).astimezone(timezone.utc)
    index = pd.date_range(start, end, freq="h", inclusive="left")
    values = [kwh_at(t.astimezone(ROME)) for t in index.to_pydatetime()]
    return pd.Series(values, index=index, dtype=float)


def school_profile(t: datetime) -> float:
    """3 kW at night, 20 kW in lessons, 6 kW otherwise."""
    if t.hour < 6 or t.hour >= 20:
        return 3.0
    return 20.0 if 8 <= t.hour < 16 else 6.0


def expected_day_type(t: datetime, turin) -> str:
    day = turin.day(t.date())
    if day.kind != cal.SCHOOL:
        return day.kind
    minute = t.hour * 60 + t.minute
    return "school_open" if t.weekday() < 5 and 480 <= minute < 990 else "school_closed"


def test_day_types_and_out_of_hours_share_across_a_dst_change_and_a_holiday(turin):
    # 24 Oct 2025 (Fri, school) .. 3 Nov 2025: the clocks go back on 26 Oct (25 hours), 1 Nov is a holiday.
    kwh = hourly(datetime(2025, 10, 24), datetime(2025, 11, 4), school_profile)
    types = energy.day_types(kwh.index, turin, WEEKDAYS_8_TO_1630, "primaria")
    got = energy.kwh_by_day_type(kwh, types)

    expected = {t: 0.0 for t in energy.DAY_TYPES}
    hours_of_26th = 0
    for stamp, value in kwh.items():
        local = stamp.to_pydatetime().astimezone(ROME)
        expected[expected_day_type(local, turin)] += value
        hours_of_26th += local.date() == date(2025, 10, 26)
    assert hours_of_26th == 25
    assert got == pytest.approx(expected)
    assert got["holiday"] > 0 and got["weekend"] > 0
    share = energy.out_of_hours_share(got)
    assert share == pytest.approx(1 - expected["school_open"] / sum(expected.values()))


def test_baseload_is_the_mean_of_the_four_lowest_hours_and_needs_twenty_hours():
    # 29 March 2026: clocks go forward, the day has 23 hours.
    def profile(t):
        return 2.0 + (t.hour % 7) * 0.5

    kwh = hourly(datetime(2026, 3, 28), datetime(2026, 3, 31), profile)
    kwh.iloc[60:66] = np.nan  # 30 March loses 6 hours: 18 left, no baseload that day
    got = energy.daily_baseload_kw(kwh)

    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)):
        values = sorted(v for s, v in kwh.items()
                        if s.to_pydatetime().astimezone(ROME).date() == day and not np.isnan(v))
        if len(values) >= 20:
            assert got[day] == pytest.approx(sum(values[:4]) / 4)
        else:
            assert np.isnan(got[day])
    assert sum(1 for s in kwh.index if s.to_pydatetime().astimezone(ROME).date() == date(2026, 3, 29)) == 23


def test_peak_is_the_highest_hourly_mean_power():
    kwh = hourly(datetime(2026, 3, 2), datetime(2026, 3, 3), school_profile)
    kwh.iloc[10] = 31.5
    assert energy.daily_peak_kw(kwh)[date(2026, 3, 2)] == 31.5


@pytest.mark.parametrize("level, pupils, typical", [
    ("primaria", 100, 1.0), ("primaria", 150, 1.0), ("primaria", 450, 4.0), ("infanzia", 250, 2.0),
    ("secondaria_1", 300, 10.0), ("secondaria_2", 1000, 19.5),
])
def test_baseload_benchmarks(level, pupils, typical):
    assert energy.typical_baseload_kw(level, pupils) == pytest.approx(typical)
    assert energy.exemplar_baseload_kw(level, pupils) == pytest.approx(0.6 * typical)
    saving = energy.baseload_saving_kwh(typical, level, pupils)
    assert saving == pytest.approx(0.4 * typical * 8760)


def test_unknown_level_is_named():
    with pytest.raises(ValueError, match="'primary'.*accepted infanzia"):
        energy.typical_baseload_kw("primary", 100)


def test_cost_emissions_and_intensity():
    euros, kg = energy.cost_and_emissions(1000.0, energy.Tariff(0.25, 0.3))
    assert (euros, kg) == pytest.approx((250.0, 300.0))
    assert energy.per_area_and_pupil(5000.0, 2500.0, 500) == pytest.approx((2.0, 10.0))


def test_opening_hours_parse():
    hours = energy.OpeningHours.parse({"mon": ["07:45", "13:30"], "sat": None})
    assert hours.is_open(0, 7 * 60 + 45) and not hours.is_open(0, 13 * 60 + 30)
    assert not hours.is_open(1, 9 * 60) and not hours.is_open(5, 9 * 60)
    assert timedelta(minutes=hours.days[0][1] - hours.days[0][0]) == timedelta(hours=5, minutes=45)
