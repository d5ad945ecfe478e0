"""The daily and weekly patterns: rush hours, lessons, meter registers, weekends, realistic ranges."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from statistics import mean

import pytest

from iotorino.simulate.generator import iter_messages
from iotorino.simulate.period import TURIN, parse_start

WEEK_START = parse_start("2026-11-16T00:00")  # Monday, Turin time


@pytest.fixture(scope="module")
def week(fleet, catalogue):
    """One simulated November week: (topic, local time, fields) of every message."""
    messages = iter_messages(fleet, catalogue, WEEK_START, WEEK_START + timedelta(days=7), seed=11, fault_rate=0.0)
    return [(m.topic, m.sim_time.astimezone(TURIN), json.loads(m.payload)["fields"]) for m in messages]


def values(week, measurement, field, when):
    return [f[field] for topic, t, f in week if topic.endswith("/" + measurement) and field in f and when(t)]


def weekday_hour(hour):
    return lambda t: t.weekday() < 5 and t.hour == hour


def test_weekday_no2_and_noise_peak_at_rush_hour_over_the_night(week):
    for measurement, field in (("air_quality", "no2"), ("air_quality", "co"), ("noise", "laeq")):
        assert mean(values(week, measurement, field, weekday_hour(8))) > 1.3 * mean(values(week, measurement, field, weekday_hour(3)))


def test_street_values_stay_in_realistic_ranges(week):
    assert 10 <= min(values(week, "air_quality", "no2", bool)) and max(values(week, "air_quality", "no2", bool)) <= 120
    assert 5 <= min(values(week, "air_quality", "pm25", bool)) and max(values(week, "air_quality", "pm25", bool)) <= 60
    assert 10 <= min(values(week, "air_quality", "pm10", bool)) and max(values(week, "air_quality", "pm10", bool)) <= 90
    assert 0.2 <= min(values(week, "air_quality", "co", bool)) and max(values(week, "air_quality", "co", bool)) <= 2
    laeq = values(week, "noise", "laeq", bool)
    assert 40 <= min(laeq) and max(laeq) <= 80
    november = values(week, "weather", "temperature", bool)
    assert -8 < min(november) and max(november) < 20  # Turin in late autumn


def test_classroom_co2_rises_in_lessons_and_rests_at_night(week):
    lessons = values(week, "indoor_climate", "co2", lambda t: t.weekday() < 5 and 9 <= t.hour < 12)
    night = values(week, "indoor_climate", "co2", lambda t: t.hour < 5)
    assert 380 < min(night) and max(night) < 520
    assert mean(lessons) > 900 and max(lessons) <= 2100
    assert min(lessons) < 800  # windows opened at the break drop it


def test_indoor_temperature_is_heated_in_season(week):
    school_day = values(week, "indoor_climate", "temperature", lambda t: t.weekday() < 5 and 9 <= t.hour < 13)
    assert 19 <= min(school_day) and max(school_day) <= 23


def test_energy_registers_only_grow_per_meter(week):
    registers = defaultdict(list)
    for topic, _, fields in week:
        if topic.endswith("/energy"):
            registers[topic].append(fields["total_active_energy_import"])
    assert len(registers) == 3
    for series in registers.values():
        assert all(b >= a for a, b in zip(series, series[1:]))
        assert series[0] > 1000  # a plausible register of a meter in service for years


def test_weekend_energy_is_lower_than_weekday_and_night_is_baseload(week):
    def consumed(day_index):
        series = [f["total_active_energy_import"] for topic, t, f in week
                  if topic == "iotorino/v1/school/TO-SC-01/M1/energy" and t.weekday() == day_index]
        return series[-1] - series[0]

    assert consumed(5) < 0.7 * consumed(2) and consumed(6) < 0.7 * consumed(2)
    main_night_kw = [f["total_active_power"] / 1000 for topic, t, f in week
                     if topic.endswith("/M1/energy") and t.hour < 5]
    assert 1.5 * 0.8 <= min(main_night_kw) and max(main_night_kw) <= 10 * 1.2  # baseload 1.5-10 kW by size
