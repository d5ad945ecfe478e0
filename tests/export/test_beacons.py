"""beacon_fleet_daily against the real InfluxDB: share of the day seen, gateways, battery, status."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from iotorino.core import catalogue, inventory
from iotorino.export import run_export
from iotorino.core.reading import Reading
from tests.export.helpers import ns, utc

pytestmark = pytest.mark.integration


def sighting(beacon: str, gateway: str, t, sightings: int, battery_mv: int | None = None) -> Reading:
    fields = {"sightings": sightings, "rssi_median": -70.0}
    if battery_mv is not None:
        fields["battery_mv"] = battery_mv
    return Reading("beacon_sighting", {"beacon": beacon, "gateway": gateway}, fields, ns(t))


def test_beacon_fleet_day(influx, tmp_path):
    fleet = inventory.default().beacons
    first, second = sorted(fleet)[:2]
    day_start = utc(2026, 11, 20, 23)
    readings = []
    # `first`: 30-s windows for 2 hours (120 minutes), two gateways in the first hour; battery drifts down.
    for k in range(240):
        t = day_start + timedelta(hours=6, seconds=30 * k)
        readings.append(sighting(first, "GW-1", t, 3, battery_mv=2950 - k // 60))
        if k < 120:
            readings.append(sighting(first, "GW-2", t, 1))
    readings.append(Reading("beacon_status", {"beacon": first, "gateway": "monitor"},
                            {"status_code": 1, "low_battery": True, "battery_days_left": 40.5}, ns(day_start - timedelta(days=2))))
    readings.append(sighting(second, "GW-1", day_start - timedelta(days=3), 2))  # heard before the day only
    influx.write(readings)

    result = run_export("beacon_fleet_daily", date(2026, 11, 21), influx.settings, tmp_path)
    rows = {r["beacon_id"]: r for r in pq.read_table(result.path).to_pylist()}
    assert result.rows == len(fleet)
    a = rows[first]
    assert a["share_of_day_seen"] == pytest.approx(120 / 1440)
    assert (a["gateways"], a["sightings"], a["battery_mv_last"], a["battery_mv_min"]) == (2, 240 * 3 + 120, 2947, 2947)
    assert a["battery_level"] == pytest.approx(2947 / fleet[first].nominal_mv)
    assert (a["status_code"], a["battery_days_left"]) == (1, 40.5)
    assert a["host_unit_id"] == fleet[first].host_unit
    assert a["last_seen"].timestamp() == (day_start + timedelta(hours=6, seconds=30 * 239)).timestamp()
    b = rows[second]
    assert (b["share_of_day_seen"], b["gateways"], b["sightings"], b["battery_level"]) == (0.0, 0, 0, None)
    assert b["last_seen"].timestamp() == (day_start - timedelta(days=3)).timestamp()


def test_beacon_dag(airflow_db, influx, tmp_path, monkeypatch):
    from datetime import datetime

    from tests.export.helpers import ROME, load_dag

    monkeypatch.setenv("IOTORINO_INFLUX_URL", influx.settings.url)
    monkeypatch.setenv("IOTORINO_INFLUX_DB", influx.settings.database)
    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tmp_path))
    beacon = sorted(inventory.default().beacons)[0]
    influx.write([sighting(beacon, "GW-1", utc(2026, 11, 21, 8, m), 1) for m in range(30)])
    run = load_dag("export_beacon_fleet_daily").test(
        logical_date=datetime(2026, 11, 22, tzinfo=ROME), run_conf={"date": "2026-11-21"}
    )
    assert run.state == "success"
    rows = pq.read_table(tmp_path / "beacon_fleet_daily" / "data" / "date=2026-11-21").to_pylist()
    assert [r["share_of_day_seen"] for r in rows if r["beacon_id"] == beacon] == [pytest.approx(30 / 1440)]
