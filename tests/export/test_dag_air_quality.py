"""`dag.test` of export_air_quality_hourly against readings in the real InfluxDB."""

from __future__ import annotations

from datetime import datetime

import pyarrow.parquet as pq
import pytest

from tests.export.helpers import ROME, air_quality_readings, expected_hourly, load_dag, ns, utc

DAG_ID = "export_air_quality_hourly"


@pytest.fixture
def export_env(influx, tmp_path, monkeypatch):
    """The DAG's environment: the test's InfluxDB database and a temporary export directory."""
    monkeypatch.setenv("IOTORINO_INFLUX_URL", influx.settings.url)
    monkeypatch.setenv("IOTORINO_INFLUX_DB", influx.settings.database)
    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


@pytest.mark.integration
def test_dag_exports_one_local_day_with_exact_aggregates(airflow_db, influx, export_env):
    # Day 2026-11-21 in Rome is 2026-11-20T23:00Z .. 2026-11-21T23:00Z; data on both sides of it.
    readings = air_quality_readings("TO-TEST-001", "3", utc(2026, 11, 20, 22, 0), 26 * 60)
    readings += air_quality_readings("TO-TEST-002", "5", utc(2026, 11, 21, 6, 0), 150, step_min=15, seed=3)
    influx.write(readings)

    run = load_dag(DAG_ID).test(
        logical_date=datetime(2026, 11, 22, 0, 0, tzinfo=ROME), run_conf={"date": "2026-11-21"}
    )
    assert run.state == "success"

    part = export_env / "air_quality_hourly" / "data" / "date=2026-11-21" / "part-0.parquet"
    table = pq.read_table(part)
    rows = table.to_pylist()
    start, end = ns(utc(2026, 11, 20, 23)), ns(utc(2026, 11, 21, 23))
    in_day = [r for r in readings if start <= r.time_ns < end]
    for field in ("pm25", "no2", "co"):
        want = expected_hourly(in_day, field)
        got = {
            (r["unit_id"], int(r["date_observed_from"].timestamp()) * 1_000_000_000): (
                r[f"{field}_mean"], r[f"{field}_min"], r[f"{field}_max"], r[f"{field}_count"]
            )
            for r in rows
        }
        assert got.keys() == want.keys()
        for key, (mean, low, high, count) in want.items():
            assert got[key] == (pytest.approx(mean), low, high, count)
    # 24 hours of unit 1, 3 hours (06:00, 07:00, 08:00 UTC) of unit 2; no empty hours.
    assert table.num_rows == 24 + 3
    assert {r["district"] for r in rows if r["unit_id"] == "TO-TEST-002"} == {5}
    assert str(table.schema.field("date_observed_from").type) == "timestamp[ms, tz=UTC]"


@pytest.mark.integration
def test_dag_without_date_param_exports_the_data_interval_day(airflow_db, influx, export_env):
    influx.write(air_quality_readings("TO-TEST-003", "1", utc(2026, 11, 21, 10, 0), 60))

    run = load_dag(DAG_ID).test(logical_date=datetime(2026, 11, 22, 0, 0, tzinfo=ROME))
    assert run.state == "success"

    assert run.data_interval_start.astimezone(ROME).date().isoformat() == "2026-11-21"
    part = export_env / "air_quality_hourly" / "data" / "date=2026-11-21" / "part-0.parquet"
    assert pq.read_table(part).num_rows == 1


@pytest.mark.integration
def test_dag_prefers_the_airflow_connection(airflow_db, influx, export_env, monkeypatch):
    influx.write(air_quality_readings("TO-TEST-004", "1", utc(2026, 11, 21, 10, 0), 60))
    monkeypatch.setenv("IOTORINO_INFLUX_URL", "http://127.0.0.1:9")  # nothing listens there
    host_port = influx.settings.url.removeprefix("http://")
    monkeypatch.setenv("AIRFLOW_CONN_IOTORINO_INFLUX", f"http://{host_port}/{influx.settings.database}")

    run = load_dag(DAG_ID).test(logical_date=datetime(2026, 11, 22, 0, 0, tzinfo=ROME), run_conf={"date": "2026-11-21"})
    assert run.state == "success"
    assert pq.read_table(export_env / "air_quality_hourly" / "data" / "date=2026-11-21").num_rows == 1
