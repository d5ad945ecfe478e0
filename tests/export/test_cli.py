"""`iotorino export` from the command line: one day, a backfill, and errors that name the value."""

from __future__ import annotations


import pyarrow.parquet as pq
import pytest

from tests import cli
from tests.export.helpers import air_quality_readings, utc


def export(python, cli_env, *args):
    return cli.run(["export", *args], text=True)


@pytest.mark.integration
def test_backfill_writes_one_partition_per_day(python, cli_env, influx, tmp_path):
    for day in (20, 21, 22):
        influx.write(air_quality_readings("TO-SU-0001", "2", utc(2026, 11, day, 9), 60))
    done = export(
        python, cli_env, "air_quality_hourly", "--from", "2026-11-20", "--to", "2026-11-22", "--out", str(tmp_path),
        "--influx-url", influx.settings.url, "--database", influx.settings.database,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[:3] for line in done.stdout.splitlines()] == [
        ["air_quality_hourly", f"2026-11-{d}", "1"] for d in (20, 21, 22)
    ]
    for d in (20, 21, 22):
        assert pq.read_table(tmp_path / "air_quality_hourly" / "data" / f"date=2026-11-{d}").num_rows == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["air_quality_hourly", "--date", "2026-13-01"], "'2026-13-01' is not a calendar date"),
        (["rainbows", "--date", "2026-11-21"], "unknown dataset 'rainbows'"),
        (["air_quality_hourly", "--from", "2026-11-22", "--to", "2026-11-21"], "2026-11-21 is before --from 2026-11-22"),
        (["air_quality_hourly"], "no day given"),
    ],
)
def test_bad_arguments_are_named(python, cli_env, args, message):
    done = export(python, cli_env, *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_list_names_every_dataset(python, cli_env):
    done = export(python, cli_env, "--list")
    assert done.returncode == 0
    assert "air_quality_hourly" in done.stdout.split() and "data_quality_daily" in done.stdout.split()


@pytest.mark.integration
def test_backfill_in_parallel_resumes_after_an_interruption(python, cli_env, influx, tmp_path):
    for day in (20, 21, 22):
        influx.write(air_quality_readings("TO-SU-0001", "2", utc(2026, 11, day, 9), 60))
    store = ["--influx-url", influx.settings.url, "--database", influx.settings.database, "--out", str(tmp_path)]
    first = export(python, cli_env, "air_quality_hourly", "--from", "2026-11-20", "--to", "2026-11-21", "--jobs", "2", *store)
    assert first.returncode == 0, first.stderr
    # The backfill of three days is interrupted after its first two; --resume does the third only.
    (tmp_path / "air_quality_hourly" / "data" / "date=2026-11-20" / "part-0.parquet").unlink()
    again = export(python, cli_env, "air_quality_hourly", "--from", "2026-11-20", "--to", "2026-11-22", "--resume",
                   "--jobs", "2", *store)
    assert again.returncode == 0, again.stderr
    assert [line.split()[:2] for line in again.stdout.splitlines()] == [["air_quality_hourly", "2026-11-22"]]
    assert not (tmp_path / "air_quality_hourly" / "data" / "date=2026-11-20").joinpath("part-0.parquet").exists()
    assert pq.read_table(tmp_path / "air_quality_hourly" / "data" / "date=2026-11-22").num_rows == 1


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_must_be_positive(python, cli_env, jobs):
    done = export(python, cli_env, "air_quality_hourly", "--date", "2026-11-21", "--jobs", jobs)
    assert done.returncode == 2
    assert f"{jobs} is not a number of processes" in done.stderr


@pytest.mark.integration
def test_a_backfill_can_write_the_indicators_back_into_influxdb(python, cli_env, influx, tmp_path):
    influx.write(air_quality_readings("TO-SU-0001", "2", utc(2026, 11, 21, 9), 60))
    done = export(
        python, cli_env, "air_quality_daily", "--date", "2026-11-21", "--out", str(tmp_path), "--to-influx",
        "--influx-url", influx.settings.url, "--database", influx.settings.database,
    )
    assert done.returncode == 0, done.stderr
    rows = pq.read_table(tmp_path / "air_quality_daily" / "data" / "date=2026-11-21").to_pylist()
    assert f"air_quality_daily 2026-11-21 {len(rows)} points InfluxDB" in done.stdout
    series = influx.query('SELECT count("capture") FROM "hourly"."air_quality_daily"')
    assert series[0]["values"][0][1] == len(rows) > 0

