"""Late data through the real store: re-exporting a day logs exactly that day, with what changed; a plain re-run logs nothing."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from iotorino.core.inventory import Inventory
from iotorino.export import read_changelog, read_manifest, run_export
from tests.export.helpers import air_quality_readings, utc

pytestmark = pytest.mark.integration

EMPTY_INVENTORY = Inventory({}, {}, {}, {})
DATASET = "air_quality_hourly"


def export(influx, out, day, trigger):
    return run_export(DATASET, day, influx.settings, out, inventory=EMPTY_INVENTORY, trigger=trigger)


def test_late_data_is_logged_for_exactly_the_changed_day(influx, tmp_path):
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 20, 8), 120))
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8), 120))
    for day in (date(2026, 11, 20), date(2026, 11, 21)):
        export(influx, tmp_path, day, "nightly")
    manifest_before = (tmp_path / DATASET / "manifest.json").read_bytes()
    log_before = (tmp_path / DATASET / "changelog.jsonl").read_bytes()

    # The nightly run again, nothing new: manifest and log untouched.
    for day in (date(2026, 11, 20), date(2026, 11, 21)):
        export(influx, tmp_path, day, "nightly")
    assert (tmp_path / DATASET / "manifest.json").read_bytes() == manifest_before
    assert (tmp_path / DATASET / "changelog.jsonl").read_bytes() == log_before

    # Late data for the 21st: a third hour, and more values in its first hour.
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 10), 60))
    influx.write(air_quality_readings("TO-TEST-001", "1", utc(2026, 11, 21, 8, 5), 60, seed=9))
    for day in (date(2026, 11, 20), date(2026, 11, 21)):
        export(influx, tmp_path, day, "re-export after late data")
    log = read_changelog(tmp_path, DATASET)
    assert [(e["date"], e["kind"]) for e in log] == [("2026-11-21", "revised"), ("2026-11-21", "published"), ("2026-11-20", "published")]
    late = log[0]
    assert late["trigger"] == "re-export after late data"
    assert (late["rows_before"], late["rows_after"], late["added"], late["removed"], late["revised"]) == (2, 3, 1, 0, 1)
    assert late["hours"] == ["2026-11-21T09:00:00+01:00", "2026-11-21T11:00:00+01:00"]
    assert late["columns"]["pm25_count"] == {"changed": 1, "mean_before": 6.0, "mean_after": 12.0}
    manifest = read_manifest(tmp_path, DATASET)
    for key, entry in manifest["files"].items():
        assert hashlib.sha256((tmp_path / key).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["modified"] == late["time"]
    untouched = f"{DATASET}/data/date=2026-11-20/part-0.parquet"
    assert manifest["files"][untouched] == __import__("json").loads(manifest_before)["files"][untouched]
