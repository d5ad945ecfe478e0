"""The daily data-quality report against the real InfluxDB: completeness, stuck, out-of-range, silence."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from iotorino.export import run_export
from iotorino.core.inventory import Inventory, Profile, Quantity, Sensor, StreetUnit
from iotorino.core.reading import Reading
from tests.export.helpers import ns, utc

pytestmark = pytest.mark.integration

AIR = Sensor(
    "TEST-AQ", "air_quality", 3600,
    {f: Quantity("ug/m3", 0.0, 500.0, "±10") for f in ("pm1", "pm25", "pm10", "no2", "o3")}
    | {"co": Quantity("mg/m3", 0.0, 50.0, "±1")},
)
HOURLY_AIR = Profile("test-air-hourly", "street", "test profile: air quality every hour", (AIR,))


def unit(uid: str, installed: date = date(2025, 1, 1)) -> StreetUnit:
    return StreetUnit(uid, 1, 7.68, 45.07, HOURLY_AIR.id, installed)


INVENTORY = Inventory(
    profiles={HOURLY_AIR.id: HOURLY_AIR},
    street_units={u.id: u for u in (unit("TO-Q-A"), unit("TO-Q-B"), unit("TO-Q-LATER", date(2027, 1, 1)))},
    schools={},
    beacons={},
)


def air(uid: str, t: dt.datetime, **fields: float) -> Reading:
    values = {"pm1": 5.0, "pm25": 10.0, "pm10": 20.0, "no2": 30.5, "o3": 40.0, "co": 0.5} | fields
    return Reading("air_quality", {"unit": uid, "district": "1"}, values, ns(t))


def test_quality_report_counts_what_each_device_did(influx, tmp_path):
    day_start = utc(2026, 11, 20, 23)  # local midnight of 2026-11-21
    readings = [air("TO-Q-A", day_start + timedelta(hours=h), pm25=10.0 + h) for h in range(12)]
    readings[5] = air("TO-Q-A", day_start + timedelta(hours=5), pm25=15.0, pm10=900.0)  # beyond the sensor's 500
    last_b = day_start - timedelta(days=3)
    readings.append(air("TO-Q-B", last_b))
    readings.append(air("TO-Q-STRANGER", day_start + timedelta(hours=2)))
    # Two messages of TO-Q-A whose no2 (and once o3) the collector quarantined: stored without them, with the count.
    for hour, count in ((12, 1), (13, 2)):
        kept = air("TO-Q-A", day_start + timedelta(hours=hour))
        fields = {k: v for k, v in kept.fields.items() if k not in ("no2", "o3")[:count]}
        readings.append(Reading("air_quality", kept.tags, fields | {"quarantined_values": count}, kept.time_ns))
    influx.write(readings)

    result = run_export("data_quality_daily", date(2026, 11, 21), influx.settings, tmp_path, inventory=INVENTORY)
    rows = {r["device_id"]: r for r in pq.read_table(result.path).to_pylist()}

    assert set(rows) == {"TO-Q-A", "TO-Q-B", "TO-Q-STRANGER"}  # not yet installed: not expected
    a = rows["TO-Q-A"]
    assert (a["expected_values"], a["received_values"], a["completeness"]) == (24, 14, 14 / 24)
    assert a["quarantined_values"] == 3
    # no2, o3, pm1 and co never change; pm10 changes once (the spike); pm25 rises.
    assert a["stuck_fields"] == "co,no2,o3,pm1"
    assert a["out_of_range_values"] == 1
    assert a["last_seen"].timestamp() == (day_start + timedelta(hours=13)).timestamp()
    assert a["silent_over_a_day"] is False
    b = rows["TO-Q-B"]
    assert (b["received_values"], b["completeness"], b["silent_over_a_day"]) == (0, 0.0, True)
    assert b["quarantined_values"] == 0
    assert b["last_seen"].timestamp() == last_b.timestamp()
    stranger = rows["TO-Q-STRANGER"]
    assert (stranger["expected_values"], stranger["completeness"], stranger["received_values"]) == (None, None, 1)
    assert result.summary.startswith("3 device-measurements; mean completeness 29.2%; 1 with stuck fields; 1 silent")
    assert result.summary.endswith("; 3 quarantined values")
