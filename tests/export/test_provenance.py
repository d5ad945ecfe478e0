"""Manifest and change log: checksums equal the files, a same-data re-export leaves both untouched, changes are summarised."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pyarrow.parquet as pq

from iotorino.export import provenance, read_changelog, read_manifest
from tests.export.published import DATASET, hourly_rows, publish_day

DAY = date(2026, 3, 29)  # a 23-hour local day


def test_manifest_lists_every_file_with_its_true_checksum_size_and_rows(tmp_path):
    publish_day(tmp_path, DAY)
    publish_day(tmp_path, date(2026, 3, 30))
    manifest = read_manifest(tmp_path, DATASET)
    assert sorted(manifest["files"]) == [
        f"{DATASET}/csv/{DATASET}_2026-03-29.csv", f"{DATASET}/csv/{DATASET}_2026-03-30.csv",
        f"{DATASET}/data/date=2026-03-29/part-0.parquet", f"{DATASET}/data/date=2026-03-30/part-0.parquet",
    ]
    for key, entry in manifest["files"].items():
        body = (tmp_path / key).read_bytes()
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
        assert entry["bytes"] == len(body)
        assert entry["version"] == provenance.project_version() != "unknown"
    day = manifest["files"][f"{DATASET}/data/date=2026-03-29/part-0.parquet"]
    assert day["rows"] == pq.read_metadata(tmp_path / f"{DATASET}/data/date=2026-03-29/part-0.parquet").num_rows == 3 * 23
    assert day["period"] == "2026-03-29" and day["format"] == "parquet"


def test_reexport_with_the_same_data_touches_neither_manifest_nor_log(tmp_path):
    publish_day(tmp_path, DAY)
    folder = tmp_path / DATASET
    before = (folder / "manifest.json").read_bytes(), (folder / "changelog.jsonl").read_bytes()
    assert publish_day(tmp_path, DAY) is None
    assert ((folder / "manifest.json").read_bytes(), (folder / "changelog.jsonl").read_bytes()) == before


def test_a_revised_day_is_logged_with_rows_and_values_before_and_after(tmp_path):
    publish_day(tmp_path, DAY)
    publish_day(tmp_path, date(2026, 3, 30))
    first_modified = read_manifest(tmp_path, DATASET)["modified"]
    # Late data: one more unit, and unit 0001's PM10 revised in the first 5 hours.
    rows = hourly_rows(DAY, units=("TO-SU-0001", "TO-SU-0002", "TO-SU-0003", "TO-SU-0004"))
    for i in range(5):
        rows["pm10_mean"][i] += 2.0
    entry = publish_day(tmp_path, DAY, rows, trigger="airflow export_air_quality_hourly manual__late")
    log = read_changelog(tmp_path, DATASET)
    assert log[0] == entry and [e["date"] for e in log] == ["2026-03-29", "2026-03-30", "2026-03-29"]
    assert entry["kind"] == "revised" and entry["trigger"] == "airflow export_air_quality_hourly manual__late"
    assert (entry["rows_before"], entry["rows_after"], entry["added"], entry["removed"], entry["revised"]) == (69, 92, 23, 0, 5)
    # Only pm10_mean changed on the matching rows: 5 values, hours 0-4 (10..14 before, +2 after).
    assert entry["columns"] == {"pm10_mean": {"changed": 5, "mean_before": 12.0, "mean_after": 14.0}}
    assert entry["hours"][0] == "2026-03-29T00:00:00+01:00" and len(entry["hours"]) == 23
    manifest = read_manifest(tmp_path, DATASET)
    assert manifest["modified"] >= first_modified
    assert manifest["files"][f"{DATASET}/data/date=2026-03-29/part-0.parquet"]["rows"] == 92


def test_a_day_that_outgrows_the_csv_limit_loses_its_stale_csv(tmp_path, monkeypatch):
    from iotorino.export import parquet

    publish_day(tmp_path, DAY)
    csv_key = f"{DATASET}/csv/{DATASET}_2026-03-29.csv"
    assert (tmp_path / csv_key).is_file()
    monkeypatch.setattr(parquet, "CSV_MAX_ROWS", 10)
    publish_day(tmp_path, DAY, hourly_rows(DAY, offset=1.0))
    assert not (tmp_path / csv_key).exists()
    assert csv_key not in read_manifest(tmp_path, DATASET)["files"]


def test_changelog_lines_are_json_objects(tmp_path):
    publish_day(tmp_path, DAY)
    lines = (tmp_path / DATASET / "changelog.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["published"]
