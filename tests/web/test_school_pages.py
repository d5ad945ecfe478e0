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


DAYS = 730  # two years: the last 365 days and the 365 before, for the year-on-year changes


def kwh_of(school_index: int, fuel: str, day: date) -> float:
    """Known daily kWh: school 3 wastes most; heat only in the heating season, more in the earlier year."""
    base = (80.0 + 200.0 * school_index) * (1.0 if day.weekday() < 5 else 0.4)
    if fuel == "heat":
        return 0.0 if 4 < day.month < 10 else 10 * base * (1.0 if day > LAST - timedelta(days=365) else 1.1)
    return base


def degree_days_of(day: date) -> float:
    """Known degree days: none out of season, 12 a day in the last year and 15 in the year before (colder)."""
    if 4 < day.month < 10:
        return 0.0
    return 12.0 if day > LAST - timedelta(days=365) else 15.0


@pytest.fixture(scope="module")
def school_exports(tmp_path_factory):
    """Two years of school_energy_daily and 28 days of classroom_air_daily for three schools."""
    out = tmp_path_factory.mktemp("school-exports")
    fleet = inventory.default()
    for i in range(DAYS):
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
                       "cost_eur": kwh * 0.25, "co2e_kg": kwh * 0.27, "outdoor_mean_c": 8.0, "degree_days": degree_days_of(day),
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
    before_kwh = sum(kwh_of(2, "electricity", LAST - timedelta(days=i)) for i in range(365, 730))
    assert electricity["change_year"] == pytest.approx(year_kwh(2, "electricity") / before_kwh - 1)
    assert page["heating"]["findings"] and all(f["kind"] == "weekend" for f in page["heating"]["findings"])
    assert len(page["fuels"]["electricity"]["series"]["daily"]) == 56
    pupils = client.get("/scuole/TO-SC-01/alunni.json").json()
    monday = LAST - timedelta(days=LAST.weekday())
    this_week = sum(kwh_of(0, "electricity", monday + timedelta(days=i)) for i in range((LAST - monday).days + 1))
    assert pupils["week"]["kwh_this_week"] == pytest.approx(this_week)
    assert {r["light"] for r in pupils["rooms"]} == {"grey"}  # no store: no live value, said so
    rooms = client.get("/scuole/TO-SC-01.json").json()["classrooms"]
    assert rooms and rooms[0]["co2_mean_ppm"] == pytest.approx(1200.0)


def year_sum(n: int, fuel: str, first: int, of) -> float:
    return sum(of(n, fuel, LAST - timedelta(days=i)) for i in range(first, first + 365))


def saving_eur(n: int, school) -> float:
    """The € a year at exemplar level, from the documented references: 200 or 300 kWh per pupil, 80 kWh/m²."""
    per_pupil = 200.0 if school.level in ("infanzia", "primaria") else 300.0
    electricity = max(0.0, year_kwh(n, "electricity") - per_pupil * school.pupils) * 0.25
    heat = max(0.0, year_kwh(n, "heat") - 80.0 * school.floor_area_m2) * 0.25
    return electricity + heat


def test_weather_normalised_change_is_shown_with_its_definition(school_app):
    client = TestClient(school_app)
    heat = client.get("/scuole/TO-SC-02.json").json()["fuels"]["heat"]["summary"]
    gg_now = sum(degree_days_of(LAST - timedelta(days=i)) for i in range(365))
    gg_before = sum(degree_days_of(LAST - timedelta(days=i)) for i in range(365, 730))
    kwh_now, kwh_before = year_kwh(1, "heat"), year_sum(1, "heat", 365, kwh_of)
    expected = (kwh_now / gg_now) / (kwh_before / gg_before) - 1
    assert heat["change_year_normalised"] == pytest.approx(expected)
    assert heat["change_year"] == pytest.approx(kwh_now / kwh_before - 1)
    html = client.get("/scuole/TO-SC-02").text
    shown = f"{round(expected * 100)} %"
    assert "a parità di clima" in html and shown in html and 'id="nota-clima"' in html
    assert "gradi giorno" in html
    electricity = client.get("/scuole/TO-SC-02.json").json()["fuels"]["electricity"]["summary"]
    assert electricity["change_year_normalised"] is None  # only heat depends on the weather


def test_overview_sorts_worst_first_by_saving_and_by_each_kpi(school_app):
    client = TestClient(school_app)
    fleet = inventory.default()
    savings = {school_id: saving_eur(n, fleet.schools[school_id]) for n, school_id in enumerate(SCHOOLS)}
    assert len(set(savings.values())) == 3 and max(savings.values()) > 0  # the fixture makes the order mean something
    got = client.get("/scuole.json").json()
    order = [r["school_id"] for r in got["schools"] if r["school_id"] in SCHOOLS]
    assert order == sorted(SCHOOLS, key=lambda s: -savings[s])
    assert got["sort"] == {"key": "spreco", "worst_first": True, "direction": "decrescente", "rank_key": "spreco"}
    assert {r["school_id"]: r["saving_eur"] for r in got["schools"] if r["school_id"] in SCHOOLS} == pytest.approx(savings)
    # Schools without a year of data come after those with one, by name.
    rest = [r["name"] for r in got["schools"] if r["school_id"] not in SCHOOLS]
    assert order == [r["school_id"] for r in got["schools"]][:3] and rest == sorted(rest, key=str.casefold)
    per_pupil = {s: year_kwh(n, "electricity") / fleet.schools[s].pupils for n, s in enumerate(SCHOOLS)}
    for verso, sign in (("decrescente", -1), ("crescente", 1)):
        rows = client.get(f"/scuole.json?ordina=kwh_alunno&verso={verso}").json()["schools"]
        assert [r["school_id"] for r in rows][:3] == sorted(SCHOOLS, key=lambda s: sign * per_pupil[s])
    names = [r["name"] for r in client.get("/scuole.json?ordina=nome").json()["schools"]]
    assert names == sorted(names, key=str.casefold)


def test_overview_headers_are_sort_links_with_aria_sort(school_app):
    client = TestClient(school_app)
    html = client.get("/scuole?ordina=calore_m2&verso=crescente").text
    import re
    headers = re.findall(r"<th scope=\"col\"[^>]*>.*?</th>", html)
    sorted_headers = [h for h in headers if "aria-sort" in h]
    assert len(sorted_headers) == 1 and 'aria-sort="ascending"' in sorted_headers[0]
    assert "ordina=calore_m2&amp;verso=decrescente" in sorted_headers[0]  # the active column's link reverses it
    assert sum("<a href=" in h for h in headers) == 7  # every KPI and the name sort; level and rank do not
    assert "Posizione nel grado per calore per m²" in html
    default = client.get("/scuole").text
    assert re.search(r'aria-sort="descending"><a href="/scuole\?ordina=spreco&amp;verso=crescente', default)


@pytest.mark.parametrize("query, field", [("ordina=peggiore", "ordina"), ("ordina=spreco&verso=su", "verso")])
def test_overview_refuses_an_unknown_order_naming_it(school_app, query, field):
    response = TestClient(school_app).get(f"/scuole?{query}")
    value = query.split("=")[-1]
    assert response.status_code == 400 and value in response.text and field in response.text
    assert "spreco" in response.text or "decrescente" in response.text


def test_unknown_school_is_a_polite_404(school_app):
    response = TestClient(school_app).get("/scuole/TO-SC-99")
    assert response.status_code == 404 and "TO-SC-99" in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("path, name", [("/scuole", "scuole-overview"), ("/scuole/TO-SC-03", "scuola"),
                                        ("/scuole/TO-SC-01/alunni", "alunni"), ("/en/scuole/TO-SC-03", "school-en"),
                                        ("/scuole?ordina=kwh_alunno&verso=crescente", "scuole-per-alunno")])
def test_school_pages_in_the_browser(school_app, browser_page, path, name):
    running = RunningServer(school_app).start()
    try:
        browser_page.goto(running.url + path)
        browser_page.assert_clean(running.url)
        if name in ("scuola", "school-en"):
            points = browser_page.evaluate("document.querySelector('[data-chart]').dataset.points")
            assert int(points) == 56
        if name.startswith("scuole"):
            first = browser_page.evaluate("document.querySelector('#overview tbody th a').textContent")
            assert first == {"scuole-overview": "Scuola secondaria di I grado Giacomo Matteotti",
                             "scuole-per-alunno": "Scuola dell'infanzia Aristide Gabelli"}[name]
        browser_page.screenshot(name)
        if name == "scuole-overview":  # the sort links work from the keyboard: focus, Enter, the order reverses
            browser_page.evaluate("document.querySelector('th[aria-sort] a').focus()")
            browser_page.press("Enter", "Enter", 13)
            browser_page.pump(1.0)
            assert browser_page.evaluate("location.search") == "?ordina=spreco&verso=crescente"
            assert browser_page.evaluate("document.querySelector('th[aria-sort]').getAttribute('aria-sort')") == "ascending"
            browser_page.assert_clean(running.url)
    finally:
        running.stop()
