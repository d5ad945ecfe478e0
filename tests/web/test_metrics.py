"""The web application's /metrics (exports' freshness from the manifests), /healthz and /readyz."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from iotorino.web import WebSettings, create_app
from iotorino.web.metrics import day_end
from tests.export.published import DATASET
from tests.web.conftest import DAYS


def _samples(client: TestClient) -> dict[tuple[str, str], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, s.labels.get("dataset", "")): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_the_newest_published_day_and_last_change_come_from_the_manifest(app, published):
    samples = _samples(TestClient(app))
    # Recomputed by hand: the newest day is 2 February 2026; it ends at local midnight, 23:00 UTC (CET).
    assert DAYS[-1] == date(2026, 2, 2)
    end = datetime(2026, 2, 2, 23, 0, tzinfo=timezone.utc).timestamp()
    assert samples[("iotorino_export_last_partition_timestamp_seconds", DATASET)] == end
    modified = json.loads((published / DATASET / "manifest.json").read_text())["modified"]
    assert samples[("iotorino_export_last_modified_timestamp_seconds", DATASET)] == \
        datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()


def test_a_summer_day_ends_at_22_utc_and_dst_days_last_23_or_25_hours():
    assert day_end(date(2026, 7, 1)) == datetime(2026, 7, 1, 22, 0, tzinfo=timezone.utc).timestamp()
    assert day_end(date(2026, 3, 29)) - day_end(date(2026, 3, 28)) == 23 * 3600
    assert day_end(date(2026, 10, 25)) - day_end(date(2026, 10, 24)) == 25 * 3600


def test_a_new_day_moves_the_metric_and_a_damaged_manifest_is_skipped(tmp_path):
    client = TestClient(create_app(WebSettings(exports_dir=tmp_path)))
    assert not [k for k in _samples(client) if k[0].startswith("iotorino_export_")]  # nothing published yet
    folder = tmp_path / "noise_daily"
    folder.mkdir()
    manifest = {"dataset": "noise_daily", "modified": "2026-03-02T05:10:00Z", "files": {
        "noise_daily/data/date=2026-03-01/part-0.parquet": {"period": "2026-03-01", "format": "parquet"},
        "noise_daily/csv/noise_daily_2026-03-01.csv": {"period": "2026-03-01", "format": "csv"},
        "noise_daily/monthly/noise_daily_2026-02.parquet": {"period": "2026-02", "format": "parquet"}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    key = ("iotorino_export_last_partition_timestamp_seconds", "noise_daily")
    assert _samples(client)[key] == day_end(date(2026, 3, 1))
    manifest["files"]["noise_daily/data/date=2026-03-02/part-0.parquet"] = {"period": "2026-03-02", "format": "parquet"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert _samples(client)[key] == day_end(date(2026, 3, 2))
    (folder / "manifest.json").write_text("{not json")
    assert key not in _samples(client)


def test_health_and_readiness(app, tmp_path):
    client = TestClient(app)
    assert client.get("/healthz").json() == {"alive": True}
    assert client.get("/readyz").status_code == 200
    gone = TestClient(create_app(WebSettings(exports_dir=tmp_path / "missing")))
    answer = gone.get("/readyz")
    assert answer.status_code == 503 and list(answer.json()["not_ready"]) == ["exports"]
    for method in ("post", "put", "delete"):
        assert getattr(client, method)("/metrics").status_code == 405
