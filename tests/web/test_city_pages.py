"""The city pages over a published tree of known hours: every number recomputed here, 404s, JSON twins, English.

The tree is written by `iotorino.testing.city_exports` (the exports' own writers) for 120
units and 8 schools: two weeks of hours ending on the week of the autumn DST change, and the
daily datasets from 1 September. The expected figures are recomputed by reading the files
back with pyarrow and plain loops (or from the generator's formulas), not through the pages' code.
"""

from __future__ import annotations

import math
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from datetime import date, datetime, timedelta
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from iotorino.core import inventory
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.services import free_port
from iotorino.testing import city_exports as gen
from iotorino.web import WebSettings, create_app, mirror
from iotorino.web.sections import city_data
from tests.web.test_browser import CONTRAST

LAST = date(2026, 10, 27)  # a Tuesday: the two weeks of hours hold the 25-hour Sunday of 25 October
DAILY_FROM = date(2026, 9, 1)
FLEET = inventory.default()
UNITS = sorted(FLEET.street_units.values(), key=lambda u: u.id)[:120]
SCHOOLS = sorted(FLEET.schools.values(), key=lambda s: s.id)[:8]
# EEA EAQI 2024 upper band edges, restated from the EEA legend (µg/m³); a value on an edge stays in the lower band.
EDGES = {"pm25": (5, 15, 50, 90, 140), "pm10": (15, 45, 120, 195, 270), "no2": (10, 25, 60, 100, 150),
         "o3": (60, 100, 120, 160, 180)}


@pytest.fixture(scope="module")
def city_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("city-exports")
    gen.write_city(out, UNITS, SCHOOLS, LAST, hourly_days=14, daily_from=DAILY_FROM)
    return out


@pytest.fixture(scope="module")
def city_app(city_tree):
    return create_app(WebSettings(exports_dir=city_tree, base_url="https://dati.example.it"))


@pytest.fixture
def client(city_app):
    """A fresh client per test: the language cookie of one test does not reach the next."""
    return TestClient(city_app)


def read(tree, dataset, day=None):
    """Rows (dicts) of every partition of `dataset` (or of `day`)."""
    rows = []
    for path in sorted((tree / dataset / "data").glob("date=*/part-0.parquet")):
        if day is None or path.parent.name == f"date={day.isoformat()}":
            rows += pq.read_table(path).to_pylist()
    return rows


def band(values: dict) -> int | None:
    levels = []
    for pollutant, value in values.items():
        if value is None:
            continue
        level = 6
        for i, edge in enumerate(EDGES[pollutant]):
            if value <= edge:
                level = i + 1
                break
        levels.append(level)
    return max(levels) if levels else None


def test_map_colours_each_unit_by_the_newest_published_hour_without_a_store(client, city_tree):
    rows = read(city_tree, "air_quality_index_hourly", LAST)
    last = max(r["date_observed_from"] for r in rows)
    expected = {r["unit_id"]: band({p: r[f"{p}_hourly"] for p in EDGES}) for r in rows if r["date_observed_from"] == last}
    assert len(expected) > 50
    page = client.get("/citta.json").json()
    assert page["index"]["source"] == "published" and page["index"]["store"] == "absent"
    assert page["index"]["hour_from"] == last.isoformat()
    got = {u["id"]: (u["eaqi"] or {}).get("level") for u in page["units"]}
    assert {u: got[u] for u in expected} == expected
    counts = Counter(v for v in expected.values())
    assert {b["level"]: b["units"] for b in page["bands"]} == {lvl: counts.get(lvl, 0) for lvl in range(1, 7)}
    assert page["no_data"] == len(FLEET.street_units) - sum(1 for v in expected.values() if v is not None)
    features = {f["properties"]["id"]: f["properties"] for f in page["map"]["features"]}
    assert len(features) == len(FLEET.street_units)
    assert sum(d["units"] for d in page["districts"]) == len(FLEET.street_units)
    some = next(u for u, lvl in expected.items() if lvl)
    assert features[some]["colour"] == page["bands"][expected[some] - 1]["colour"]
    html = client.get("/citta").text
    assert "Indicativo, non validato." in html and "air_quality_index_hourly" in html
    assert "arriveranno" not in html  # the "coming later" note is gone
    assert "molto scadente" in html or "buona" in html
    english = client.get("/en/citta").text
    assert "Indicative, not validated." in english and "Legend and units per band" in english


def test_map_says_when_the_store_cannot_be_read(city_tree):
    dead = InfluxV1Client(InfluxV1Settings(url=f"http://127.0.0.1:{free_port()}", database="iotorino", timeout_s=2))
    app = create_app(WebSettings(exports_dir=city_tree, base_url="https://dati.example.it", store=dead))
    page = TestClient(app).get("/citta.json").json()
    assert page["index"]["source"] == "published" and page["index"]["store"] == "unreachable"
    assert "Il database delle misure non risponde" in TestClient(app).get("/citta").text


@pytest.mark.integration
def test_map_reads_the_latest_complete_hour_from_the_store(influx, tmp_path):
    """Readings every 5 minutes over the last three hours; the page bands the hour that just ended."""
    from iotorino.core.reading import Reading
    import time

    now = time.time_ns()
    hour = 3_600_000_000_000
    start = now - now % hour - 3 * hour
    minute = 60_000_000_000
    readings = []
    plan = {  # unit: (values, readings per hour of no2)
        "TO-SU-0001": ({"pm25": 4.0, "pm10": 14.0, "no2": 9.0, "o3": 50.0}, 12),  # good
        "TO-SU-0002": ({"pm25": 12.0, "pm10": 30.0, "no2": 70.0, "o3": 50.0}, 12),  # NO₂ 70: poor
        "TO-SU-0003": ({"pm25": 12.0, "pm10": 30.0, "no2": 170.0, "o3": 50.0}, 6),  # NO₂ only 30 min: not valid → fair
    }
    for unit, (values, no2_per_hour) in plan.items():
        district = str(FLEET.street_units[unit].district)
        for i in range(36):
            t = start + i * 5 * minute
            fields = {k: v for k, v in values.items() if k != "no2"}
            if (i % 12) < no2_per_hour:
                fields["no2"] = values["no2"]
            readings.append(Reading("air_quality", {"unit": unit, "district": district}, fields, t))
    influx.write(readings)
    app = create_app(WebSettings(exports_dir=tmp_path, base_url="https://dati.example.it", store=influx))
    page = TestClient(app).get("/citta.json").json()
    assert page["index"]["source"] == "store"
    got = {u["id"]: u["eaqi"] for u in page["units"] if u["eaqi"]}
    assert got["TO-SU-0001"]["level"] == band(plan["TO-SU-0001"][0]) == 1
    assert (got["TO-SU-0002"]["level"], got["TO-SU-0002"]["pollutant"]) == (4, "no2")
    assert got["TO-SU-0003"]["values"]["no2"] is None and got["TO-SU-0003"]["level"] == 2
    assert page["no_data"] == len(FLEET.street_units) - 3
    assert "letto ora dal database delle misure" in TestClient(app).get("/citta").text


def unit_with(profile: str):
    return next((k, u) for k, u in enumerate(UNITS) if u.profile == profile)


def test_unit_page_year_so_far_calendar_and_noise(client, city_tree):
    k, unit = unit_with("street-full")
    page = client.get(f"/citta/unita/{unit.id}.json").json()
    assert page["as_of"] == LAST.isoformat() and page["days_left"] == (date(2026, 12, 31) - LAST).days
    assert [r["id"] for r in page["regimes"]] == ["dir2008_50", "dir2024_2881_2030"]
    assert page["regimes"][0]["applies"] is True and page["regimes"][1]["applies"] is False
    published = {(r["regime"], r["limit_id"]): r for r in read(city_tree, "air_quality_indicators", LAST) if r["unit_id"] == unit.id}
    shown = {(g["id"], x["limit_id"]): x for g in page["regimes"] for x in g["limits"]}
    for key, row in published.items():
        for column in ("exceedances_ytd", "remaining_allowed", "projected_exceedances", "percentile_value", "capture"):
            assert shown[key][column] == (pytest.approx(row[column]) if row[column] is not None else None), (key, column)
    for (regime, limit_id), row in published.items():
        if row["annual_mean_ytd"] is not None:  # an annual mean above its limit at the limit's precision (whole units)
            above = int(row["annual_mean_ytd"] + 0.5) > row["limit_value"]
            assert shown[(regime, limit_id)]["status"] == ("above_annual" if above else "within")
        elif row["exceedances_ytd"] is not None:
            want_state = "broken" if row["exceedances_ytd"] > row["allowed_exceedances"] else \
                "projected_broken" if row["projected_broken"] else "within"
            assert shown[(regime, limit_id)]["status"] == want_state
    # The calendar, recomputed from the generator's formula: PM10 daily 50 µg/m³, rounded to units, strictly above.
    want = Counter()
    for i in range(365):
        day = date(2026, 1, 1) + timedelta(days=i)
        if day > LAST:
            want["future"] += 1
            continue
        if day < DAILY_FROM:
            want["nodata"] += 1
            continue
        state, mean = gen.pm10_day(k, day)
        want["nodata" if state == "absent" else "invalid" if state == "invalid" else
             "above" if int(mean + 0.5) > 50 else "below"] += 1
    calendar = page["calendar"]
    assert calendar["counts"] == {s: want[s] for s in ("above", "below", "invalid", "nodata", "future")}
    assert calendar["limit_value"] == 50 and calendar["allowed"] == 35 and len(calendar["months"]) == 12
    assert shown[("dir2008_50", "pm10_daily")]["exceedances_ytd"] == want["above"]  # the published count agrees
    assert calendar["months"][9]["offset"] == date(2026, 10, 1).weekday()
    # Noise: the year so far is the energetic mean of the published valid days.
    rows = [r for r in read(city_tree, "noise_daily") if r["unit_id"] == unit.id]
    for name in ("l_day", "l_night", "dpcm_night"):
        valid = [r[name] for r in rows if r[name] is not None]
        energetic = 10 * math.log10(sum(10 ** (v / 10) for v in valid) / len(valid))
        assert page["noise"]["year"][name]["level"] == pytest.approx(energetic, abs=1e-9)
        assert page["noise"]["year"][name]["valid_days"] == len(valid)
    assert page["noise"]["days_elapsed"] == (LAST - date(2026, 1, 1)).days + 1
    assert page["noise"]["chart"]["x"][-1] == LAST.isoformat() and len(page["noise"]["chart"]["series"]) == 3
    html = client.get(f"/citta/unita/{unit.id}").text
    assert "PM10 nel 2026" in html and "calendar-days" in html and "Dal 2030" not in html
    assert escape("Dir. (UE) 2024/2881") in html or "2024/2881" in html
    assert f"{want['above']} giorni sopra il limite" in html
    english = client.get(f"/en/citta/unita/{unit.id}").text
    assert "PM10 in 2026" in english and "Legal indicators since the start of the year" in english


def test_unit_without_noise_or_air_says_so(client):
    _, air_only = unit_with("street-air")
    assert client.get(f"/citta/unita/{air_only.id}.json").json()["noise"] is None
    assert "Nessun dato di rumore" in client.get(f"/citta/unita/{air_only.id}").text
    _, noise_only = unit_with("street-noise")
    page = client.get(f"/citta/unita/{noise_only.id}.json").json()
    assert all(x["exceedances_ytd"] is None for g in page["regimes"] for x in g["limits"])
    assert page["noise"] is not None and page["calendar"]["counts"]["above"] == 0


@pytest.mark.parametrize("path, key, named", [
    ("/citta/unita/TO-SU-9999", "citta.unknown_unit", "TO-SU-9999"),
    ("/citta/circoscrizioni/9", "citta.unknown_district", "9"),
    ("/citta/circoscrizioni/centro", "citta.unknown_district", "centro"),
    ("/citta/scuole/TO-SC-99", "citta.unknown_school", "TO-SC-99"),
])
def test_unknown_places_are_a_404_in_both_languages(client, path, key, named):
    data = client.get(path + ".json")
    assert data.status_code == 404 and data.json()["error"] == key
    assert named in data.json()["message"]["it"] and named in data.json()["message"]["en"]
    assert data.json()["message"]["it"] != data.json()["message"]["en"]
    for prefix, lang in (("", "it"), ("/en", "en")):
        html = client.get(prefix + path + ("?lang=it" if lang == "it" else ""))
        assert html.status_code == 404 and named in html.text and "Traceback" not in html.text
        assert f'<html lang="{lang}">' in html.text


def recomputed_profile(tree, dataset, column, district, energetic):
    """{(day type, hour): mean} of a district's valid hours, by plain loops over the files."""
    groups: dict = {}
    for r in read(tree, dataset):
        if r["district"] != district or r[column] is None:
            continue
        if dataset == "noise_hourly" and r["completeness"] < 0.75:
            continue
        local = datetime.fromisoformat(r["local_time_from"])
        key = ("weekend" if local.weekday() >= 5 else "weekday", local.hour)
        groups.setdefault(key, []).append(r[column])
    if energetic:
        return {k: 10 * math.log10(sum(10 ** (v / 10) for v in vs) / len(vs)) for k, vs in groups.items()}
    return {k: sum(vs) / len(vs) for k, vs in groups.items()}


def test_district_profiles_and_the_unit_most_unlike_its_district(client, city_tree):
    odd = UNITS[7]  # the generator's night-peaking unit
    page = client.get(f"/citta/circoscrizioni/{odd.district}.json").json()
    assert page["district"] == odd.district
    for quantity, (dataset, column, energetic) in {"no2": ("air_quality_index_hourly", "no2_hourly", False),
                                                   "noise": ("noise_hourly", "laeq_mean", True)}.items():
        want = recomputed_profile(city_tree, dataset, column, odd.district, energetic)
        got = page["quantities"][quantity]["profile"]
        for (kind, hour), value in want.items():
            assert got[kind][hour] == pytest.approx(value, abs=1e-9), (quantity, kind, hour)
    assert page["quantities"]["no2"]["most_unlike"][0]["unit_id"] == odd.id
    # Its RMS difference, recomputed from per-unit profiles and their median.
    members = [u for u in UNITS if u.district == odd.district and u.profile != "street-noise"]
    per_unit = {}
    for r in read(city_tree, "air_quality_index_hourly"):
        if r["unit_id"] in {u.id for u in members} and r["no2_hourly"] is not None:
            local = datetime.fromisoformat(r["local_time_from"])
            per_unit.setdefault(r["unit_id"], {}).setdefault(("weekend" if local.weekday() >= 5 else "weekday", local.hour), []).append(r["no2_hourly"])
    means = {u: {k: sum(v) / len(v) for k, v in p.items()} for u, p in per_unit.items()}
    diffs = []
    for key, value in means[odd.id].items():
        others = [m[key] for m in means.values() if key in m]
        diffs.append(value - statistics.median(others))
    rms = math.sqrt(sum(d * d for d in diffs) / len(diffs))
    assert page["quantities"]["no2"]["most_unlike"][0]["rms"] == pytest.approx(rms, abs=1e-9)
    overview = client.get("/citta/circoscrizioni.json").json()
    assert [d["district"] for d in overview["districts"]] == list(range(1, 9))
    row = next(d for d in overview["districts"] if d["district"] == odd.district)
    assert row["quantities"]["no2"]["most_unlike"]["unit_id"] == odd.id
    weekday = [want_v for (kind, _), want_v in recomputed_profile(city_tree, "air_quality_index_hourly", "no2_hourly",
                                                                 odd.district, False).items() if kind == "weekday"]
    assert row["quantities"]["no2"]["means"]["weekday"] == pytest.approx(sum(weekday) / len(weekday))
    html = client.get(f"/citta/circoscrizioni/{odd.district}").text
    assert odd.id in html and "Feriale (lun-ven)" in html
    assert "Weekend (Sat-Sun)" in client.get(f"/en/citta/circoscrizioni/{odd.district}").text


def haversine(lon1, lat1, lon2, lat2):
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def test_schools_indoor_against_outdoor(client):
    page = client.get("/citta/scuole.json").json()
    rows = {r["school_id"]: r for r in page["schools"]}
    assert sorted(rows) == sorted(FLEET.schools)
    air_units = [u for u in FLEET.street_units.values() if FLEET.profiles[u.profile].interval_s("air_quality")]
    for k, school in enumerate(SCHOOLS):
        row = rows[school.id]
        nearest = min(air_units, key=lambda u: (haversine(school.lon, school.lat, u.lon, u.lat), u.id))
        assert row["nearest_unit"] == nearest.id
        assert row["distance_m"] == pytest.approx(haversine(school.lon, school.lat, nearest.lon, nearest.lat))
        # The generator: classrooms follow outdoor temperature three hours later; CO₂ follows outdoors at k % 4 == 0.
        assert row["pairs"]["temperature_station"]["lag_h"] == 3
        assert row["verdict"]["temperature"] == "follows" and row["verdict"]["temperature_lag_h"] == 3
        assert row["verdict"]["co2"] == ("outdoor" if k % 4 == 0 else "indoor"), school.id
        assert row["pairs"]["co2_station"]["pairs_at_0"] == 14 * 24 + 1  # two weeks with the 25-hour Sunday
    nothing = rows[sorted(FLEET.schools)[-1]]
    assert nothing["pairs"]["co2_station"]["r"] is None and nothing["verdict"]["co2"] == "unknown"
    detail = client.get(f"/citta/scuole/{SCHOOLS[0].id}.json").json()
    assert len(detail["charts"]["co2"]["x"]) == 7 * 24
    assert ("no2" in detail["charts"]) == (detail["nearest_unit"] in {u.id for u in UNITS})  # nothing published: no chart
    assert all(len(s["y"]) == 7 * 24 for c in detail["charts"].values() for s in c["series"])
    assert [c["lag_h"] for c in detail["pairs"]["co2_station"]["curve"]] == list(range(-6, 7))
    assert "La CO₂ delle aule segue quella esterna" in client.get(f"/citta/scuole/{SCHOOLS[0].id}").text
    assert "Classroom CO₂ does not follow outdoor CO₂" in client.get(f"/en/citta/scuole/{SCHOOLS[1].id}").text




@pytest.mark.integration
def test_city_pages_in_the_browser(city_app, client, browser_page):
    from tests.web.conftest import RunningServer

    full = unit_with("street-full")[1]
    odd = UNITS[7]
    pages = {"citta": "/citta", "citta-unita": f"/citta/unita/{full.id}", "citta-circoscrizioni": "/citta/circoscrizioni",
             "citta-circoscrizione": f"/citta/circoscrizioni/{odd.district}", "citta-scuole": "/citta/scuole",
             "citta-scuola": f"/citta/scuole/{SCHOOLS[0].id}", "city-unit-en": f"/en/citta/unita/{full.id}",
             "city-district-en": f"/en/citta/circoscrizioni/{odd.district}"}
    running = RunningServer(city_app).start()
    try:
        for name, path in pages.items():
            browser_page.reset()
            browser_page.goto(running.url + path + ("" if path.startswith("/en") else "?lang=it"))
            browser_page.assert_clean(running.url)
            assert browser_page.evaluate(CONTRAST) == [], name
            charts = browser_page.evaluate("[...document.querySelectorAll('[data-city-chart]')].map(e => [e.dataset.values, e.querySelectorAll('canvas').length])")
            for values, canvases in charts:
                assert int(values) > 0 and canvases >= 1, (name, charts)
            if name == "citta":
                data = client.get("/citta.json").json()
                assert browser_page.evaluate("document.querySelector('[data-city-map]').dataset.markers") == str(len(FLEET.street_units))
                coloured = len(FLEET.street_units) - data["no_data"]
                assert browser_page.evaluate("document.querySelector('[data-city-map]').dataset.coloured") == str(coloured)
                assert browser_page.evaluate("document.querySelectorAll('.leaflet-interactive').length") == len(FLEET.street_units)
            if name == "citta-unita":
                assert len(charts) == 1
                assert browser_page.evaluate("document.querySelectorAll('.calendar li.day').length") == 365
            if name == "citta-circoscrizione":
                assert len(charts) == 4
            if name == "citta-scuola":  # a chart per published series group (the nearest unit may have none)
                assert len(charts) == len(client.get(f"/citta/scuole/{SCHOOLS[0].id}.json").json()["charts"]) >= 2
            browser_page.screenshot(name)
        browser_page.viewport(390, 844, mobile=True)
        for name in ("citta", "citta-unita"):
            browser_page.goto(running.url + pages[name] + "?lang=it")
            browser_page.assert_clean(running.url)
            assert browser_page.evaluate("document.documentElement.scrollWidth") <= 390, name
            browser_page.screenshot(f"{name}-phone")
    finally:
        running.stop()


def test_warm_up_at_start_reads_each_partition_set_once_while_pages_are_asked(city_tree, client, monkeypatch):
    reads = Counter()
    real = city_data.read_frame

    def counting(paths, columns):
        reads[tuple(paths)] += 1
        time.sleep(0.05)  # a slow disk: pages asked meanwhile must wait for this read, not start their own
        return real(paths, columns)

    monkeypatch.setattr(city_data, "read_frame", counting)
    app = create_app(WebSettings(exports_dir=city_tree, base_url="https://dati.example.it"))
    paths = ["/citta", f"/citta/unita/{UNITS[0].id}", f"/citta/unita/{UNITS[1].id}", f"/citta/circoscrizioni/{UNITS[0].district}",
             "/citta/circoscrizioni", "/citta/scuole", f"/citta/scuole/{SCHOOLS[0].id}"]
    with TestClient(app) as warming:  # the lifespan starts the warm-up
        with ThreadPoolExecutor(4) as pool:
            pages = list(pool.map(lambda p: warming.get(p + ".json").json(), paths * 2))
        app.state.city_warming.join(timeout=120)
        assert not app.state.city_warming.is_alive()
        assert reads and max(reads.values()) == 1, reads
        # What the warmed app answers is what an app computing on demand answers.
        assert pages[: len(paths)] == pages[len(paths):] == [client.get(p + ".json").json() for p in paths]
        # HTML rendered once per version is the same page in each language.
        assert warming.get(f"/citta/unita/{UNITS[0].id}?lang=it").text == warming.get(f"/citta/unita/{UNITS[0].id}").text
        italian, english = (warming.get(f"{prefix}/citta/unita/{UNITS[0].id}").text for prefix in ("", "/en"))
        assert "Torna alla città" in italian and "Back to the city" not in italian
        assert "Back to the city" in english and "Torna alla città" not in english


class Links(HTMLParser):
    """The href and src of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src") and v]


def test_static_mirror_holds_the_city_pages_and_every_link_they_make(city_tree, tmp_path):
    out = tmp_path / "mirror"
    settings = WebSettings(exports_dir=city_tree, base_url="https://dati.example.it")
    mirror.build(settings, out)
    pages = sorted((out / "citta").rglob("*.html")) + sorted((out / "en" / "citta").rglob("*.html"))
    assert len(pages) == 2 * (1 + 1 + 1 + len(FLEET.street_units) + len({u.district for u in FLEET.street_units.values()})
                              + len(FLEET.schools))
    assert (out / f"citta/unita/{UNITS[0].id}/index.html").read_text() == TestClient(create_app(settings)).get(
        f"/citta/unita/{UNITS[0].id}?lang=it").text
    checked, missing = 0, set()
    for page in pages:
        parser = Links()
        parser.feed(page.read_text())
        for link in parser.found:
            target = urlsplit(link)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue  # another site, or a fragment of this page
            checked += 1
            if not (out / mirror.target_of(target.path)).is_file():
                missing.add((str(page.relative_to(out)), link))
    assert checked > 10 * len(pages) and not missing, sorted(missing)[:20]
