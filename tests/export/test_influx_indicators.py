"""The indicator datasets written back into a real InfluxDB: the points equal the Parquet rows, re-runs replace them."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow.parquet as pq
import pytest

from iotorino.core.errors import ConfigError
from iotorino.export import influx_indicators as back
from iotorino.export.parquet import PART_NAME, partition_dir
from iotorino.export.run import run_day
from iotorino.export.window import local_day
from tests.export.helpers import NS, ROME
from tests.export.test_air_quality_dags import OTHER, UNIT, air_day, noise_readings

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 20)
DATASETS = ("air_quality_index_hourly", "air_quality_daily", "air_quality_indicators", "noise_daily")


def load_day(influx) -> None:
    """UNIT: a full day of air quality (valid) and 30 hours of noise; OTHER: 8 half-covered hours (an invalid day)."""
    influx.write(air_day(UNIT, DAY, partial_hours=0, seed=21, level=45)
                 + air_day(OTHER, DAY, partial_hours=8, seed=22, level=30)
                 + noise_readings(datetime(2026, 11, 20, 0, tzinfo=ROME), 30, seed=23))


def export_and_write(influx, out) -> dict[str, int]:
    run_day(list(DATASETS), DAY, influx.settings, out, client=influx)
    return {name: back.write_day(name, DAY, influx.settings, out, client=influx) for name in DATASETS}


def stored(influx, dataset: str) -> list[dict]:
    """Every point of `dataset` in InfluxDB as {column: value}, tags included (InfluxQL `SELECT *`)."""
    series = influx.query(f'SELECT * FROM "{back.RETENTION_POLICY}"."{dataset}"')
    return [dict(zip(s["columns"], values)) for s in series for values in s["values"]]


def parquet_rows(out, dataset: str) -> list[dict]:
    return pq.read_table(partition_dir(out, dataset, DAY) / PART_NAME).to_pylist()


def key(dataset: str, row: dict, time_ns: int) -> tuple:
    return (time_ns,) + tuple(None if row.get(t) is None else str(row[t]) for t in back.scheme(dataset).tags)


def assert_points_equal_parquet(influx, out) -> None:
    day_start = local_day(DAY).start_ns
    for dataset in DATASETS:
        spec = back.scheme(dataset)
        points = {key(dataset, p, p["time"]): p for p in stored(influx, dataset)}
        rows = parquet_rows(out, dataset)
        assert len(points) == len(rows) > 0, dataset
        for row in rows:
            time_ns = int(row["date_observed_from"].timestamp()) * NS if spec.hourly else day_start
            point = points[key(dataset, row, time_ns)]
            for column, value in row.items():
                if column in back.TIME_COLUMNS or column in spec.tags:
                    continue
                assert point.get(column) == value, (dataset, column, row["unit_id"])  # a column no point has is absent
            for flag, (value_column, coverage_column) in spec.flags.items():
                if coverage_column is None or row[coverage_column] is not None:
                    assert point[flag] is (row[value_column] is not None), (dataset, flag)


def test_exported_days_are_in_influxdb_as_in_the_parquet_and_reruns_replace_them(influx, tmp_path):
    load_day(influx)
    written = export_and_write(influx, tmp_path)
    assert_points_equal_parquet(influx, tmp_path)

    daily = {(p["unit_id"], p["pollutant"]): p for p in stored(influx, "air_quality_daily")}
    assert daily[(UNIT, "pm10")]["valid"] is True and daily[(UNIT, "pm10")]["daily_mean"] is not None
    invalid = daily[(OTHER, "pm10")]  # 16 valid hours of 24: no number, the flag and the capture
    assert (invalid["valid"], invalid["daily_mean"], invalid["capture"]) == (False, None, 16 / 24)
    indicators = {(p["unit_id"], p["regime"], p["limit_id"]) for p in stored(influx, "air_quality_indicators")}
    assert (UNIT, "dir2008_50", "pm10_daily") in indicators

    # Re-running the day writes the same points again: nothing doubles.
    assert export_and_write(influx, tmp_path) == written
    assert_points_equal_parquet(influx, tmp_path)

    # The day's data of UNIT go: its points go too, nothing stale stays (a rewrite would merge fields).
    influx.query(f"DELETE FROM \"air_quality\" WHERE \"unit\" = '{UNIT}'")
    export_and_write(influx, tmp_path)
    assert_points_equal_parquet(influx, tmp_path)
    assert {p["unit_id"] for p in stored(influx, "air_quality_daily")} == {OTHER}


def test_the_dag_writes_the_noise_day_back(airflow_db, influx, exports):
    from tests.export.helpers import load_dag

    influx.write(noise_readings(datetime(2026, 11, 20, 6, tzinfo=ROME), 24, seed=6))
    result = load_dag("export_noise_daily").test(logical_date=datetime(2026, 11, 21, 6, tzinfo=ROME))
    assert result.state == "success"
    (point,) = stored(influx, "noise_daily")
    (row,) = parquet_rows(exports, "noise_daily")
    assert point["l_den"] == row["l_den"] and point["l_den_valid"] is True
    assert point["time"] == local_day(DAY).start_ns


def test_a_dataset_not_written_back_is_refused_by_name():
    with pytest.raises(ConfigError) as error:
        back.scheme("weather_hourly")
    assert "noise_daily" in str(error.value)
