"""`run_export` against the real InfluxDB: DST days, re-runs, late data, empty days, meter resets, metadata."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import jsonschema
import pandas as pd
import pyarrow.parquet as pq
import pytest

from iotorino.core import inventory, paths
from iotorino.core.inventory import Inventory, Profile, Quantity, Sensor, StreetUnit
from iotorino.export import run_export
from iotorino.core.reading import Reading
from tests.export.helpers import NS, ROME, air_quality_readings, ns, utc

pytestmark = pytest.mark.integration


def export(influx, out, name="air_quality_hourly", day=date(2026, 11, 21), inventory=Inventory({}, {}, {}, {})):
    """run_export with the test's database; an empty inventory unless one is given."""
    return run_export(name, day, influx.settings, out, inventory=inventory)


@pytest.mark.parametrize(
    "day, hours, doubled_label",
    [
        (date(2026, 3, 29), 23, None),  # 02:00 local does not exist
        (date(2026, 10, 25), 25, "02:00:00"),  # 02:00 local happens twice
        (date(2026, 11, 21), 24, None),
    ],
)
def test_local_day_has_its_own_number_of_hours(influx, tmp_path, day, hours, doubled_label):
    # Readings every 30 min from 2 h before to 2 h after the local day.
    start = datetime(day.year, day.month, day.day, tzinfo=ROME) - timedelta(hours=2)
    influx.write(air_quality_readings("TO-TEST-001", "1", start, (hours + 4) * 60, step_min=30))
    result = export(influx, tmp_path, day=day)
    rows = pq.read_table(result.path).to_pylist()
    assert result.rows == len(rows) == hours
    assert all(r["pm25_count"] == 2 for r in rows)
    labels = [r["local_time_from"] for r in rows]
    assert labels[0] == f"{day.isoformat()}T00:00:00{labels[0][-6:]}"
    if doubled_label:
        assert [x for x in labels if x[11:19] == doubled_label] == [
            f"{day.isoformat()}T02:00:00+02:00", f"{day.isoformat()}T02:00:00+01:00"
        ]


def test_rerun_changes_nothing_and_late_data_replaces_the_partition(influx, tmp_path):
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8), 120))
    first = export(influx, tmp_path)
    before = first.path.read_bytes(), (tmp_path / "air_quality_hourly" / "dcat.jsonld").read_bytes()
    again = export(influx, tmp_path)
    assert (again.path.read_bytes(), (tmp_path / "air_quality_hourly" / "dcat.jsonld").read_bytes()) == before

    # Late data: a third hour arrives, and more values in the first hour.
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 10), 60))
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8, 5), 60, seed=9))
    late = export(influx, tmp_path)
    table = pq.read_table(late.path).to_pylist()
    assert [r["pm25_count"] for r in table] == [12, 6, 6]
    assert sorted(p.name for p in late.path.parent.iterdir()) == ["part-0.parquet"]
    whole = duckdb.sql(f"SELECT count(*) FROM read_parquet('{tmp_path}/air_quality_hourly/data/*/*.parquet')").fetchall()
    assert whole == [(3,)]


def test_empty_day_writes_an_empty_partition_with_its_schema(influx, tmp_path):
    result = export(influx, tmp_path)
    table = pq.read_table(result.path)
    assert result.rows == table.num_rows == 0
    assert "pm25_mean" in table.column_names


def test_completeness_uses_the_profile_interval_and_time_source_series_merge(influx, tmp_path):
    quantities = {f: Quantity("ug/m3", 0.0, 500.0, "±10") for f in ("pm1", "pm25", "pm10", "no2", "o3")}
    profile = Profile("P", "street", "air quality every 10 minutes", (Sensor("TEST-AQ", "air_quality", 600, quantities),))
    unit = StreetUnit("TO-TEST-001", 1, 7.68, 45.07, "P", date(2025, 1, 1))
    inventory = Inventory({"P": profile}, {unit.id: unit}, {}, {})
    readings = air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8), 40)  # 4 of 6 expected
    late = air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8, 40), 10)[0]
    readings.append(Reading(late.measurement, {**late.tags, "time_source": "receive"}, late.fields, late.time_ns))
    influx.write(readings)
    rows = pq.read_table(export(influx, tmp_path, inventory=inventory).path).to_pylist()
    assert [(r["pm25_count"], r["completeness"]) for r in rows] == [(5, pytest.approx(5 / 6))]


def test_files_describe_themselves(influx, tmp_path):
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8), 60))
    result = export(influx, tmp_path)
    table = pq.read_table(result.path)
    described = json.loads(table.schema.metadata[b"iotorino:columns"])
    assert described["pm25_mean"]["unit"] == "ug/m3"
    assert "2.5" in described["pm25_mean"]["description"]
    assert table.schema.field("no2_max").metadata[b"unit"] == b"ug/m3"
    assert pq.ParquetFile(result.path).metadata.row_group(0).column(0).compression == "ZSTD"

    root = tmp_path / "air_quality_hourly"
    document = json.loads((root / "dcat.jsonld").read_text())
    schema = json.loads((paths.SCHEMAS / "dcat-ap_it.dataset.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["dct:modified"]["@value"] == "2026-11-21"
    dictionary = pd.read_csv(root / "dictionary.csv")
    assert list(dictionary["column"]) == table.column_names

    frame = pd.read_parquet(root / "data")
    assert len(frame) == 1 and str(frame["date"].iloc[0]) == "2026-11-21"
    csv = pd.read_csv(root / "csv" / "air_quality_hourly_2026-11-21.csv")
    assert csv["pm25_mean"].tolist() == pytest.approx(table.column("pm25_mean").to_pylist())


@pytest.mark.parametrize("meter, jump_to, what", [
    ("main", 0.5, "meter changed: the new one shows 0.5 kWh"),
    ("main", 45.0, "meter changed: the new one already shows 45 kWh (not a 45 kWh spike)"),
    ("M1", 0.0, "roll-over of the profile's 8-digit register at 100,000,000"),
])
def test_school_energy_handles_meter_changes_and_roll_overs(influx, tmp_path, meter, jump_to, what):
    school = "TO-SC-01" if meter == "M1" else "TO-SC-99"  # TO-SC-99/main is no inventory meter: no profile
    tags = {"school": school, "meter": meter}
    start = utc(2026, 11, 20, 22, 45)  # one reading before local midnight (23:00 UTC)
    register = 99_999_980.0 if meter == "M1" else 5000.0  # M1 reaches 99,999,998 before the jump
    readings, expected, covered = [], {}, {}
    for i in range(0, 6 * 4 + 1):
        t = start + timedelta(minutes=15 * i)
        used: float | None
        if i == 10:
            used = 2.0 if meter == "M1" else None  # a roll-over counts; a meter change is unknown energy
            register = jump_to
        else:
            used = 0.0 if i == 0 else 2.0
            register += used
        if i:
            hour = ns(t - timedelta(minutes=15)) // (3600 * NS) * 3600 * NS
            expected[hour] = expected.get(hour, 0.0) + (used or 0.0)
            covered[hour] = covered.get(hour, 0.0) + (0.25 if used is not None else 0.0)
        readings.append(Reading("energy", tags, {"total_active_energy_import": register, "total_active_power": 8000.0}, ns(t)))
    influx.write(readings)
    result = export(influx, tmp_path, "school_energy_hourly", inventory=inventory.default())
    rows = [r for r in pq.read_table(result.path).to_pylist() if r["meter_id"] == meter]
    got = {int(r["date_observed_from"].timestamp()) * NS: r["energy_import_kwh"] for r in rows}
    share = {int(r["date_observed_from"].timestamp()) * NS: r["energy_covered_share"] for r in rows}
    first = ns(utc(2026, 11, 20, 23))
    assert got == pytest.approx({h: v for h, v in expected.items() if h >= first}), what
    assert share == pytest.approx({h: v for h, v in covered.items() if h >= first}), what
    assert min(got.values()) >= 0 and max(got.values()) <= 8.0
    assert sum(r["register_discontinuities"] for r in rows) == 1
