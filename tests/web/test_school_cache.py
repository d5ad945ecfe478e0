"""The school page's view model is computed once per published data version: a new partition shows at
once, concurrent first requests compute it once, and the classrooms' CO₂ now stays live."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient

from iotorino.core import inventory
from iotorino.export import parquet
from iotorino.export.school_daily import ENERGY_COLUMNS
from iotorino.web import WebSettings, create_app
from iotorino.web.sections.school_data import ModelCache

LAST = date(2026, 11, 30)
SCHOOL = "TO-SC-01"
DAYS = 14


def write_day(out, day: date, kwh: float) -> None:
    """One school_energy_daily partition: SCHOOL's electricity that day is `kwh`."""
    school = inventory.default().schools[SCHOOL]
    row = {c.name: None for c in ENERGY_COLUMNS}
    row.update(school_id=SCHOOL, fuel="electricity", local_date=day, day_type="school", calendar_known=True,
               kwh=kwh, covered_share=1.0, kwh_school_open=kwh, kwh_school_closed=0.0, kwh_weekend=0.0,
               kwh_holiday=0.0, out_of_hours_share=0.0, baseload_kw=1.0, peak_kw=10.0,
               kwh_per_m2=kwh / school.floor_area_m2, kwh_per_pupil=kwh / school.pupils, cost_eur=kwh * 0.25,
               co2e_kg=kwh * 0.27)
    parquet.write_partition(parquet.build_table(ENERGY_COLUMNS, {k: [v] for k, v in row.items()}), out,
                            "school_energy_daily", day)


@pytest.fixture
def exports(tmp_path):
    for i in range(DAYS):
        write_day(tmp_path, LAST - timedelta(days=i), 100.0)
    return tmp_path


def test_a_republished_partition_changes_the_page(exports):
    app = create_app(WebSettings(exports_dir=exports, base_url="https://dati.example.it"))
    client = TestClient(app)
    before = client.get(f"/scuole/{SCHOOL}.json").json()["fuels"]["electricity"]["summary"]["kwh"]
    assert before == pytest.approx(DAYS * 100.0)
    assert client.get(f"/scuole/{SCHOOL}.json").json()["fuels"]["electricity"]["summary"]["kwh"] == before
    assert app.state.school_models.computed == 1  # the second request only rendered
    write_day(exports, LAST - timedelta(days=3), 350.0)  # the export re-run for an earlier day
    after = client.get(f"/scuole/{SCHOOL}.json").json()["fuels"]["electricity"]["summary"]["kwh"]
    assert after == pytest.approx((DAYS - 1) * 100.0 + 350.0)
    write_day(exports, LAST + timedelta(days=1), 50.0)  # a new day published
    page = client.get(f"/scuole/{SCHOOL}.json").json()
    assert page["today"] == (LAST + timedelta(days=1)).isoformat()
    assert page["fuels"]["electricity"]["series"]["daily"][-1]["kwh"] == pytest.approx(50.0)
    pupils = client.get(f"/scuole/{SCHOOL}/alunni.json").json()
    assert pupils["week"]["today"] == (LAST + timedelta(days=1)).isoformat()


def test_concurrent_first_requests_compute_the_model_once(exports):
    app = create_app(WebSettings(exports_dir=exports, base_url="https://dati.example.it"))
    client = TestClient(app)
    client.get("/scuole")  # the application's school state exists; the school's model is not computed yet
    start = threading.Barrier(8)
    pages = []

    def ask():
        start.wait()
        pages.append(client.get(f"/scuole/{SCHOOL}.json").json())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(pages) == 8 and all(p == pages[0] for p in pages)
    assert app.state.school_models.computed == 1


def test_model_cache_waits_for_the_request_computing_a_key():
    cache = ModelCache(size=2)
    entered, release = threading.Event(), threading.Event()
    calls = []

    def compute():
        calls.append(1)
        if len(calls) == 1:  # the first computation is slow; a second one would return at once
            entered.set()
            release.wait(60)
        return {"model": len(calls)}

    results = []
    owner = threading.Thread(target=lambda: results.append(cache.get("k", compute)))
    owner.start()
    assert entered.wait(60)
    others = [threading.Thread(target=lambda: results.append(cache.get("k", compute))) for _ in range(4)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(0.2)  # they wait for the owner; had they computed, they would be done
    release.set()
    for thread in [owner, *others]:
        thread.join(60)
    assert calls == [1] and len(results) == 5 and all(r is results[0] for r in results)


def test_model_cache_is_bounded_and_forgets_failures():
    cache = ModelCache(size=2)
    for key in ("a", "b", "c"):
        cache.get(key, lambda key=key: key.upper())
    assert cache.get("a", lambda: "again") == "again"  # "a" was the least recently used: evicted
    assert cache.get("c", lambda: "never") == "C"

    def fail():
        raise ValueError("bad partition")

    with pytest.raises(ValueError):
        cache.get("d", fail)
    assert cache.get("d", lambda: "D") == "D"  # a failure is not kept
