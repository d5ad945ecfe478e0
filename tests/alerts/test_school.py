"""School alerts: once per episode, for classroom air, baseload, out-of-hours use, heating and silent devices."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from iotorino.alerts.school import SchoolAlerts, SchoolFacts, facts_from_inventory
from iotorino.core import inventory as fleet
from iotorino.core import school_calendar
from iotorino.core.school_calendar import OpeningHours
from iotorino.simulate import city, models

ROME = ZoneInfo("Europe/Rome")
NS = 1_000_000_000
FACTS = SchoolFacts("TO-SC-99", "primaria", 2000.0,
                    OpeningHours.parse({d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri")}),
                    "M1", "H1", {"R01": 300, "M1": 900, "H1": 900})


def at(y, mo, d, h, mi=0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=ROME).timestamp()) * NS


@pytest.fixture
def alerts():
    return SchoolAlerts({"TO-SC-99": FACTS}, school_calendar.default())


def room(alerts, t, ppm):
    return alerts.feed("indoor_climate", {"school": "TO-SC-99", "room": "R01"}, t, {"co2": ppm, "temperature": 21.0})


def test_co2_needs_thirty_minutes_above_in_teaching_hours_and_fires_once(alerts):
    start = at(2026, 3, 3, 9)  # a Tuesday in term
    updates = []
    for i, ppm in enumerate([1400, 1600, 1700, 1800, 1900, 2100, 2200, 1700, 1200, 1600]):
        updates += room(alerts, start + i * 5 * 60 * NS, ppm)
    opened = [u for u in updates if u.active]
    ended = [u for u in updates if not u.active]
    assert len(opened) == 1 and len(ended) == 1 and opened[0].id == ended[0].id
    assert opened[0].start_ns == start + 5 * 60 * NS          # the first reading above
    assert ended[0].end_ns == start + 8 * 5 * 60 * NS          # the first reading back below
    assert opened[0].kind == "co2_ventilate" and opened[0].site == "TO-SC-99/R01"
    assert "finestre" in opened[0].action_it and "windows" in opened[0].action_en


def test_co2_outside_teaching_hours_is_no_alert(alerts):
    saturday = at(2026, 3, 7, 10)
    updates = [u for i in range(12) for u in room(alerts, saturday + i * 5 * 60 * NS, 2500)]
    assert updates == []


def meter_day(alerts, day: date, night_kw: float, register: list, meter="M1", measurement="energy", field=None):
    field = field or "total_active_energy_import"
    out = []
    t = at(day.year, day.month, day.day, 0)
    end = t + 24 * 3600 * NS
    while t < end:
        local = datetime.fromtimestamp(t / NS, timezone.utc).astimezone(ROME)
        kw = night_kw if local.hour < 7 or local.hour >= 19 else 25.0
        register[0] += kw / 4
        out += alerts.feed(measurement, {"school": "TO-SC-99", "meter": meter}, t, {field: register[0]})
        t += 15 * 60 * NS
    return out


def test_baseload_up_opens_once_and_ends_when_it_comes_back(alerts):
    register = [1000.0]
    updates = []
    first = date(2026, 2, 2)
    for i in range(20):
        night = 3.0 if i < 10 or i >= 13 else 6.0  # days 10-12: something left on at night
        updates += meter_day(alerts, first + timedelta(days=i), night, register)
    baseload = [u for u in updates if u.kind == "baseload_up"]
    assert [u.active for u in baseload] == [True, False]
    assert baseload[0].start_ns == at(2026, 2, 12, 0)
    assert baseload[1].end_ns == at(2026, 2, 15, 0)


def test_silent_device_opens_and_closes(alerts):
    t = at(2026, 3, 3, 9)
    room(alerts, t, 800)
    assert alerts.advance(t + 10 * 60 * NS) == []
    silent = alerts.advance(t + 16 * 60 * NS)  # 3 intervals of 5 min
    assert [(u.kind, u.active) for u in silent] == [("device_silent", True)]
    assert alerts.advance(t + 30 * 60 * NS) == []  # one alert per episode
    back = room(alerts, t + 40 * 60 * NS, 800)
    assert [(u.kind, u.active, u.end_ns) for u in back] == [("device_silent", False, t + 40 * 60 * NS)]


def test_injected_heating_waste_at_weekends_and_holidays_fires_once_per_episode():
    """The simulated heat meter through the evaluator: one heating_holiday alert per injected day."""
    inventory = fleet.default()
    school = inventory.schools["TO-SC-03"]
    facts = facts_from_inventory(inventory)
    evaluator = SchoolAlerts(facts, school_calendar.default())
    seed = 3  # injects heating on 1, 21 and 22 February (weekends) and on 16 February (Carnival)
    meter = models.HeatMeter(seed, random.Random("heat"), 900, school)
    first, days = date(2026, 1, 5), 60
    t = datetime(2026, 1, 5, tzinfo=ROME).astimezone(timezone.utc)
    end = t + timedelta(days=days)
    updates = []
    while t < end:
        local = t.astimezone(ROME)
        fields = meter.fields(int(t.timestamp() * 1000), local.replace(tzinfo=None))
        updates += evaluator.feed("heat", {"school": school.id, "meter": "H1"}, int(t.timestamp()) * NS, fields)
        t += timedelta(minutes=15)
    updates += evaluator.advance(int(end.timestamp()) * NS + 2 * 3600 * NS)
    opened = sorted({datetime.fromtimestamp(u.start_ns / NS, timezone.utc).astimezone(ROME).date()
                     for u in updates if u.kind == "heating_holiday" and u.active})
    injected = sorted(d for d in (first + timedelta(days=i) for i in range(days))
                      if city.heating_plan(seed, school.id, school.level, d).waste in ("weekend", "holiday"))
    assert injected and opened == injected
    ids = [u.id for u in updates if u.kind == "heating_holiday"]
    assert all(ids.count(i) == 2 for i in set(ids[:-1]))  # each episode: opened once, ended once
