"""school_energy_daily and classroom_air_daily through the real store, against a plain recomputation.

One school (TO-SC-01, an infanzia open 07:45-16:30 on weekdays) on the first day of the heating
season (a Wednesday) and on the day the clocks go back (a Sunday of 25 hours), with known hourly
power, heat, outdoor temperature and classroom CO₂.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from iotorino.core import inventory
from iotorino.core.reading import Reading
from iotorino.export import run_export
from tests.export.helpers import NS, ROME, ns

pytestmark = pytest.mark.integration
SCHOOL = "TO-SC-01"
TARIFF = {"electricity": (0.25, 0.27), "heat": (0.12, 0.202)}  # data/energy-tariffs.yaml


def kw_at(local: datetime) -> float:
    return 4.0 if local.hour < 7 or local.hour >= 18 else 20.0 + local.hour % 3


def heat_kw_at(local: datetime, sunday: bool) -> float:
    if sunday:
        return 60.0 if 9 <= local.hour < 13 else 0.0  # left on on a Sunday morning
    return 120.0 if 6 <= local.hour < 16 else 0.0


def temp_at(local: datetime) -> float:
    return 9.0 + local.hour / 4


def co2_at(local: datetime) -> float:
    return 700.0 + 150.0 * (local.hour - 7) if 8 <= local.hour < 16 else 450.0


def local_hours(day: date) -> list[datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(timezone.utc)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=ROME).astimezone(timezone.utc)
    return [(start + timedelta(hours=i)).astimezone(ROME) for i in range(int((end - start).total_seconds() // 3600))]


def write_day(influx, day: date) -> None:
    sunday = day.weekday() == 6
    hours = local_hours(day)
    readings, register, heat = [], 5000.0, 90_000.0
    first = hours[0].astimezone(timezone.utc)  # the register at the day's first instant
    readings.append(Reading("energy", {"school": SCHOOL, "meter": "M1"},
                            {"total_active_energy_import": register, "total_active_power": 0.0}, ns(first)))
    readings.append(Reading("heat", {"school": SCHOOL, "meter": "H1"},
                            {"heat_energy": heat, "heat_power": 0.0, "flow_temperature": 40.0,
                             "return_temperature": 30.0}, ns(first)))
    for local in hours:
        utc = local.astimezone(timezone.utc)
        for quarter in range(4):
            t = utc + timedelta(minutes=15 * quarter)
            register += kw_at(local) / 4
            heat += heat_kw_at(local, sunday) / 4
            readings.append(Reading("energy", {"school": SCHOOL, "meter": "M1"},
                                    {"total_active_energy_import": register, "total_active_power": kw_at(local) * 1000},
                                    ns(t + timedelta(minutes=15))))
            readings.append(Reading("heat", {"school": SCHOOL, "meter": "H1"},
                                    {"heat_energy": heat, "heat_power": heat_kw_at(local, sunday) * 1000,
                                     "flow_temperature": 55.0, "return_temperature": 43.0},
                                    ns(t + timedelta(minutes=15))))
        readings.append(Reading("outdoor_climate", {"school": SCHOOL},
                                {"temperature": temp_at(local), "relative_humidity": 70.0}, ns(utc)))
        readings.append(Reading("indoor_climate", {"school": SCHOOL, "room": "R01"},
                                {"temperature": 21.0, "relative_humidity": 45.0, "co2": co2_at(local)}, ns(utc)))
    influx.write(readings)


def expected_energy(day: date, fuel: str) -> dict:
    sunday = day.weekday() == 6
    hours = local_hours(day)
    kwh = [kw_at(h) if fuel == "electricity" else heat_kw_at(h, sunday) for h in hours]
    school_day = day.weekday() < 5
    open_ = [school_day and (7 * 60 + 45) <= h.hour * 60 < 16 * 60 + 30 for h in hours]
    total = sum(kwh)
    opened = sum(k for k, o in zip(kwh, open_) if o)
    mean_c = sum(temp_at(h) for h in hours) / len(hours)
    in_season = (day.month, day.day) >= (10, 15) or (day.month, day.day) <= (4, 15)
    price, factor = TARIFF[fuel]
    school = inventory.default().schools[SCHOOL]
    return {
        "day_type": "school" if school_day else "weekend",
        "kwh": total,
        "covered_share": 1.0,
        "kwh_school_open": opened,
        "kwh_school_closed": total - opened if school_day else 0.0,
        "kwh_weekend": 0.0 if school_day else total,
        "out_of_hours_share": (1 - opened / total) if total else None,
        "baseload_kw": sum(sorted(kwh)[:4]) / 4,
        "peak_kw": max(kwh),
        "kwh_per_m2": total / school.floor_area_m2,
        "kwh_per_pupil": total / school.pupils,
        "cost_eur": total * price,
        "co2e_kg": total * factor,
        "outdoor_mean_c": mean_c,
        "degree_days": max(0.0, 20 - mean_c) if in_season else 0.0,
    }


@pytest.mark.parametrize("day, hours, finding", [
    (date(2025, 10, 15), 24, None),          # first day of the heating season, heating from 06:00
    (date(2025, 10, 26), 25, "weekend"),     # clocks go back; heating left on on a Sunday
])
def test_school_energy_daily_matches_a_plain_recomputation(influx, tmp_path, day, hours, finding):
    assert len(local_hours(day)) == hours
    write_day(influx, day)
    result = run_export("school_energy_daily", day, influx.settings, tmp_path, inventory=inventory.default())
    rows = {r["fuel"]: r for r in pq.read_table(result.path).to_pylist() if r["school_id"] == SCHOOL}
    for fuel in ("electricity", "heat"):
        want = expected_energy(day, fuel)
        got = {k: rows[fuel][k] for k in want}
        assert got == pytest.approx(want), fuel
    assert rows["heat"]["heating_finding"] == finding
    assert rows["electricity"]["heating_finding"] is None
    others = [r for r in pq.read_table(result.path).to_pylist() if r["school_id"] != SCHOOL]
    assert others and all(r["kwh"] is None and r["covered_share"] == 0 for r in others)


def test_classroom_air_daily_counts_teaching_hours_only(influx, tmp_path):
    day = date(2025, 10, 15)
    write_day(influx, day)
    result = run_export("classroom_air_daily", day, influx.settings, tmp_path, inventory=inventory.default())
    row = next(r for r in pq.read_table(result.path).to_pylist() if (r["school_id"], r["room_id"]) == (SCHOOL, "R01"))
    teaching = [h for h in local_hours(day) if 7 * 60 + 45 <= h.hour * 60 < 16 * 60 + 30]
    values = [co2_at(h) for h in teaching]
    assert row["teaching_hours"] == len(teaching) == 9
    assert row["capture"] == 1.0
    assert row["co2_teaching_mean_ppm"] == pytest.approx(sum(values) / len(values))
    assert row["co2_teaching_max_ppm"] == max(values)
    bands = {"good": 0, "fair": 0, "poor": 0, "bad": 0}
    for v in values:
        bands["good" if v < 1000 else "fair" if v < 1500 else "poor" if v < 2000 else "bad"] += 1
    assert {k: row[f"co2_share_{k}"] for k in bands} == pytest.approx({k: n / len(values) for k, n in bands.items()})
    assert row["temperature_share_comfortable"] == 1.0 and row["humidity_in_band_share"] == 1.0
