"""The school dashboards over published daily KPIs: numbers recomputed here, 404s, and the pages in chromium."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from starlette.testclient import TestClient

from iotorino.core import inventory
from iotorino.export import parquet
from iotorino.export.school_daily import AIR_COLUMNS, ENERGY_COLUMNS
from iotorino.web import WebSettings, create_app
from tests.web.conftest import RunningServer

LAST = date(2026, 11, 30)
SCHOOLS = ("TO-SC-01", "TO-SC-02", "TO-SC-03")


def kwh_of(school_index: int, fuel: str, day: date) -> float:
    """Known daily kWh: school 3 wastes most; heat only in the heating season."""
    base = (80.0 + 40.0 * school_index) * (1.0 if day.weekday() < 5 else 0.4)
    if fuel == "heat":
        return 0.0 if 4 < day.month < 10 else 3 * base
    return base


@pytest.fixture(scope="module")
def school_exports(tmp_path_factory):
    """400 days of school_energy_daily and 28 days of classroom_air_daily for three schools."""
    out = tmp_path_factory.mktemp("school-exports")
    fleet = inventory.default()
    for i in range(400):
        day = LAST - timedelta(days=i)
        data = {c.name: [] for c in ENERGY_COLUMNS}
        for n, school_id in enumerate(SCHOOLS):
            school = fleet.schools[school_id]
            for fuel in ("electricity", "heat"):
                kwh = kwh_of(n, fuel, day)
                school_day = day.weekday() < 5
                row = {"school_id": school_id, "fuel": fuel, "local_date": day,
                       "day_type": "school" if school_day else "weekend", "calendar_known": True, "kwh": kwh,
                       "covered_share": 1.0, "kwh_school_open": 0.6 * kwh if school_day else 0.0,
                       "kwh_school_closed": 0.4 * kwh if school_day else 0.0,
                       "kwh_weekend": 0.0 if school_day else kwh, "kwh_holiday": 0.0,
                       "out_of_hours_share": 0.4 if school_day else 1.0, "baseload_kw": 2.0 + n,
                       "peak_kw": 30.0, "kwh_per_m2": kwh / school.floor_area_m2, "kwh_per_pupil": kwh / school.pupils,
                       "cost_eur": kwh * 0.25, "co2e_kg": kwh * 0.27, "outdoor_mean_c": 8.0, "degree_days": 12.0,
                       "heating_finding": "weekend" if fuel == "heat" and kwh and not school_day and n == 2 else None}
                for name in data:
                    data[name].append(row[name])
        parquet.write_partition(parquet.build_table(ENERGY_COLUMNS, data), out, "school_energy_daily", day)
    for i in range(28):
        day = LAST - timedelta(days=i)
        data = {c.name: [] for c in AIR_COLUMNS}
        for room in fleet.schools["TO-SC-01"].rooms:
            teaching = 9 if day.weekday() < 5 else 0
            row = {c.name: None for c in AIR_COLUMNS}
            row.update(school_id="TO-SC-01", room_id=room.id, local_date=day, teaching_hours=teaching,
                       capture=1.0 if teaching else None, co2_teaching_mean_ppm=1200.0 if teaching else None,
                       co2_teaching_max_ppm=1900.0 if teaching else None, co2_share_good=0.2, co2_share_fair=0.5,
                       co2_share_poor=0.2, co2_share_bad=0.1)
            for name in data:
                data[name].append(row[name])
        parquet.write_partition(parquet.build_table(AIR_COLUMNS, data), out, "classroom_air_daily", day)
    return out


@pytest.fixture(scope="module")
def school_app(school_exports):
    return create_app(WebSettings(exports_dir=school_exports, base_url="https://dati.example.it"))


def year_kwh(n: int, fuel: str) -> float:
    return sum(kwh_of(n, fuel, LAST - timedelta(days=i)) for i in range(365))


def test_overview_numbers_and_ranks_are_the_published_ones(school_app):
    client = TestClient(school_app)
    got = client.get("/scuole.json").json()
    assert got["today"] == LAST.isoformat()
    rows = {r["school_id"]: r for r in got["schools"]}
    fleet = inventory.default()
    for n, school_id in enumerate(SCHOOLS):
        assert rows[school_id]["electricity"]["kwh"] == pytest.approx(year_kwh(n, "electricity"))
        assert rows[school_id]["heat"]["kwh_per_m2"] == pytest.approx(
            year_kwh(n, "heat") / fleet.schools[school_id].floor_area_m2)
    by_level: dict[str, list] = {}
    for n, school_id in enumerate(SCHOOLS):
        school = fleet.schools[school_id]
        by_level.setdefault(school.level, []).append((year_kwh(n, "electricity") / school.pupils, school_id))
    for level, entries in by_level.items():
        for rank, (_, school_id) in enumerate(sorted(entries), start=1):
            assert rows[school_id]["electricity"]["rank"] == rank
    html = client.get("/scuole").text
    assert "TO-SC-03" in html and "kWh" in html


def test_school_page_and_pupils_page(school_app):
    client = TestClient(school_app)
    page = client.get("/scuole/TO-SC-03.json").json()
    electricity = page["fuels"]["electricity"]["summary"]
    assert electricity["kwh"] == pytest.approx(year_kwh(2, "electricity"))
    assert electricity["change_year"] is None  # 35 days before the year: too few to compare
    assert page["heating"]["findings"] and all(f["kind"] == "weekend" for f in page["heating"]["findings"])
    assert len(page["fuels"]["electricity"]["series"]["daily"]) == 56
    pupils = client.get("/scuole/TO-SC-01/alunni.json").json()
    monday = LAST - timedelta(days=LAST.weekday())
    this_week = sum(kwh_of(0, "electricity", monday + timedelta(days=i)) for i in range((LAST - monday).days + 1))
    assert pupils["week"]["kwh_this_week"] == pytest.approx(this_week)
    assert {r["light"] for r in pupils["rooms"]} == {"grey"}  # no store: no live value, said so
    rooms = client.get("/scuole/TO-SC-01.json").json()["classrooms"]
    assert rooms and rooms[0]["co2_mean_ppm"] == pytest.approx(1200.0)


def test_unknown_school_is_a_polite_404(school_app):
    response = TestClient(school_app).get("/scuole/TO-SC-99")
    assert response.status_code == 404 and "TO-SC-99" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("path, name", [("/scuole", "scuole-overview"), ("/scuole/TO-SC-03", "scuola"),
                                        ("/scuole/TO-SC-01/alunni", "alunni"), ("/en/scuole/TO-SC-03", "school-en")])
def test_school_pages_in_the_browser(school_app, browser_page, path, name):
    running = RunningServer(school_app).start()
    try:
        browser_page.goto(running.url + path)
        browser_page.assert_clean(running.url)
        if name in ("scuola", "school-en"):
            points = browser_page.evaluate("document.querySelector('[data-chart]').dataset.points")
            assert int(points) == 56
        browser_page.screenshot(name)
    finally:
        running.stop()
