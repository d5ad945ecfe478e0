"""Monthly and yearly files: built from the days, sorted, with statistics; rebuilt exactly when a day inside changes."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from iotorino.export import read_manifest, refresh_rollups, rollup
from tests.export.published import DATASET, hourly_rows, publish_day

DAYS = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)]


@pytest.fixture
def tree(tmp_path):
    for day in DAYS:
        publish_day(tmp_path, day)
    return tmp_path


def month_file(out, period, fmt="parquet"):
    folder = "monthly" if len(period) == 7 else "yearly"
    return out / DATASET / folder / f"{DATASET}_{period}.{fmt}"


def test_months_and_years_hold_every_row_of_their_days_sorted_by_unit_then_time(tree):
    written = refresh_rollups(tree, DATASET)
    assert {p.name for p in written} == {f"{DATASET}_{p}.{f}" for p in ("2026-01", "2026-02", "2026") for f in ("parquet", "csv")}
    january = pq.read_table(month_file(tree, "2026-01"))
    days = [pq.read_table(tree / DATASET / "data" / f"date={d}" / "part-0.parquet") for d in DAYS[:2]]
    assert january.num_rows == sum(t.num_rows for t in days) == 2 * 3 * 24
    assert january.column_names[0] == "date" and january.column_names[1:] == days[0].column_names
    keys = list(zip(january["unit_id"].to_pylist(), january["date"].to_pylist(), january["date_observed_from"].to_pylist()))
    assert keys == sorted(keys)
    # Values unchanged: the PM10 sum of the month is the sum of its days.
    assert pc.sum(january["pm10_mean"]).as_py() == sum(pc.sum(t["pm10_mean"]).as_py() for t in days)
    year = pq.read_table(month_file(tree, "2026"))
    assert year.num_rows == len(DAYS) * 72
    assert [d.month for d in year["date"].to_pylist()] == sorted(d.month for d in year["date"].to_pylist())
    with open(month_file(tree, "2026-01", "csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == january.num_rows and rows[0]["date"] == "2026-01-30"
    assert rows[0]["date_observed_from"] == "2026-01-29T23:00:00+00:00"  # formatted like the daily CSV copies


def test_files_carry_descriptions_statistics_page_index_and_sort_order(tree):
    refresh_rollups(tree, DATASET)
    meta = pq.ParquetFile(month_file(tree, "2026")).metadata
    group = meta.row_group(0)
    names = pq.read_schema(month_file(tree, "2026")).names
    assert [names[c.column_index] for c in group.sorting_columns] == rollup.sort_order(pq.read_schema(month_file(tree, "2026")))
    unit = group.column(names.index("unit_id"))
    assert unit.statistics.has_min_max and unit.compression == "ZSTD"
    assert group.column(0).has_column_index
    schema = pq.read_schema(month_file(tree, "2026-01"))
    assert schema.field("pm10_mean").metadata[b"unit"] == b"ug/m3"
    assert schema.metadata[b"iotorino:period"] == b"2026-01" and b"iotorino:date" not in schema.metadata
    assert meta.num_row_groups == 2  # a row group never spans two months


def test_only_the_changed_days_month_and_year_are_rebuilt(tree):
    refresh_rollups(tree, DATASET)
    february = month_file(tree, "2026-02").read_bytes()
    assert refresh_rollups(tree, DATASET) == []
    publish_day(tree, DAYS[0])  # same data: nothing to rebuild
    assert refresh_rollups(tree, DATASET) == []
    publish_day(tree, DAYS[0], hourly_rows(DAYS[0], offset=5.0))  # late data in January
    rebuilt = refresh_rollups(tree, DATASET)
    assert {p.name for p in rebuilt} == {f"{DATASET}_2026-01.parquet", f"{DATASET}_2026-01.csv", f"{DATASET}_2026.parquet", f"{DATASET}_2026.csv"}
    assert month_file(tree, "2026-02").read_bytes() == february
    january = pq.read_table(month_file(tree, "2026-01"), filters=[("date", "=", DAYS[0])])
    assert pc.min(january["pm10_mean"]).as_py() == 15.0
    entry = read_manifest(tree, DATASET)["files"][f"{DATASET}/monthly/{DATASET}_2026-01.parquet"]
    assert entry["rows"] == 144 and len(entry["sources"]) == 64


def test_a_new_day_extends_its_month(tree):
    refresh_rollups(tree, DATASET)
    publish_day(tree, DAYS[-1] + timedelta(days=1))
    rebuilt = {p.name for p in refresh_rollups(tree, DATASET)}
    assert f"{DATASET}_2026-02.parquet" in rebuilt and f"{DATASET}_2026-01.parquet" not in rebuilt
    assert pq.read_metadata(month_file(tree, "2026-02")).num_rows == 2 * 72


def test_a_period_over_the_csv_limit_has_parquet_only(tree, monkeypatch):
    monkeypatch.setattr(rollup, "CSV_MAX_ROWS", 100)
    refresh_rollups(tree, DATASET)
    assert month_file(tree, "2026-02", "csv").is_file()  # 72 rows
    assert not month_file(tree, "2026-01", "csv").exists()  # 144 rows


@pytest.mark.integration
def test_the_rollup_dag_rebuilds_through_airflow(tree, airflow_db, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.export.helpers import load_dag

    monkeypatch.setenv("IOTORINO_EXPORT_DIR", str(tree))
    dag = load_dag("open_data_rollups")
    assert dag.schedule is not None and dag.catchup is False
    run = dag.test(logical_date=datetime(2026, 2, 2, 4, tzinfo=ZoneInfo("Europe/Rome")))
    assert run.state == "success"
    assert month_file(tree, "2026-01").is_file() and month_file(tree, "2026").is_file()


def test_monthly_csv_lines_are_the_daily_csv_lines_with_their_date(tree):
    refresh_rollups(tree, DATASET)
    daily = set()
    for day in DAYS[:2]:
        lines = (tree / DATASET / "csv" / f"{DATASET}_{day}.csv").read_text().splitlines()
        daily |= {f"{day},{line}" for line in lines[1:]}
    monthly = month_file(tree, "2026-01", "csv").read_text().splitlines()
    assert monthly[0].startswith("date,unit_id,")
    assert set(monthly[1:]) == daily and len(monthly) - 1 == len(daily)


def test_csv_values_match_the_daily_formatting_for_every_type():
    import datetime as dt

    import pyarrow as pa

    from iotorino.export.parquet import _csv_value

    columns = [
        pa.array([0, 1_500, None], pa.timestamp("ms", tz="UTC")),   # a millisecond: value by value
        pa.array([0, 3_600_000, None], pa.timestamp("ms", tz="UTC")),  # whole seconds: vectorised
        pa.array([b"\x01\x02", None, b""], pa.binary()),
        pa.array([dt.date(2026, 1, 30), None, dt.date(2026, 2, 1)], pa.date32()),
        pa.array([1.5, None, 10.0]), pa.array([True, None, False]), pa.array(["a", None, "c,d"]),
    ]
    for column in columns:
        expected = [_csv_value(v) if v is not None else None for v in column.to_pylist()]
        assert [str(v) if v is not None else None for v in rollup._csv_column(column)] == [
            str(v) if v is not None else None for v in expected]
