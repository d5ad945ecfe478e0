"""The simulated heat meters inject waste on known days, and the heating analysis finds exactly those days."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from iotorino.core import inventory as fleet
from iotorino.core import school_calendar
from iotorino.schools.registers import RegisterSeries
from iotorino.schools import heating
from iotorino.simulate import city, models

ROME = ZoneInfo("Europe/Rome")
SEED = 7
H = 3600 * 1_000_000_000


def simulate_hourly_heat(school, first: date, days: int) -> pd.Series:
    """The heat meter's 15-minute register readings through the export's register arithmetic, per UTC hour."""
    meter = models.HeatMeter(SEED, random.Random(f"{SEED}/{school.id}/heat"), 900, school)
    start = datetime(first.year, first.month, first.day, tzinfo=ROME).astimezone(timezone.utc)
    end = start + timedelta(days=days)
    start_ns, end_ns = int(start.timestamp()) * 10**9, int(end.timestamp()) * 10**9
    series = RegisterSeries(start_ns, end_ns, max_kw=5000.0, modulus=100_000_000.0)
    t = start - timedelta(minutes=15)
    while t <= end:
        ms = int(t.timestamp() * 1000)
        fields = meter.fields(ms, t.astimezone(ROME).replace(tzinfo=None))
        series.add(ms * 1_000_000, fields["heat_energy"])
        t += timedelta(minutes=15)
    index = pd.date_range(start, end, freq="h", inclusive="left")
    return pd.Series([series.hours[int(s.timestamp()) * 10**9].kwh if int(s.timestamp()) * 10**9 in series.hours
                      else float("nan") for s in index], index=index)


@pytest.mark.parametrize("school_id", ["TO-SC-01", "TO-SC-05", "TO-SC-12"])
def test_injected_heating_waste_is_found_on_exactly_its_days(school_id):
    school = fleet.default().schools[school_id]
    first, days = date(2026, 1, 5), 60  # January to early March 2026: weekends, Carnival, warm spells
    hourly = simulate_hourly_heat(school, first, days)
    index = pd.date_range(datetime(2026, 1, 5, tzinfo=ROME), periods=days * 24, freq="h").tz_convert("UTC")
    temps = pd.Series([city.outdoor_temperature(SEED, t.astimezone(ROME).replace(tzinfo=None))
                       for t in index.to_pydatetime()], index=index)
    daily_c = heating.daily_mean_temperature(temps)
    calendar = school_calendar.default()
    all_days = [first + timedelta(days=i) for i in range(days)]
    kinds = {d: calendar.day(d, school.level).kind for d in all_days}
    opens = {d: (int(school.opening_hours["mon"][0][:2]) * 60 + int(school.opening_hours["mon"][0][3:])
                 if kinds[d] == "school" else None) for d in all_days}
    school_days = [d for d in all_days if kinds[d] == "school"]
    per_day = hourly.groupby([t.astimezone(ROME).date() for t in hourly.index.to_pydatetime()]).sum()
    threshold = 0.05 * per_day[[d for d in school_days if per_day.get(d, 0) > 0]].mean()

    found = {(f.kind, f.day) for f in heating.heating_findings(hourly, daily_c, kinds, opens,
                                                               on_threshold_kwh=threshold)}
    injected = set()
    for d in all_days:
        plan = city.heating_plan(SEED, school.id, school.level, d)
        if plan.waste:
            injected.add((plan.waste, d))
    assert injected, "the period should hold some injected waste"
    assert found == injected
