"""Every page renders in Italian and English, has a JSON twin with the same numbers, and fails politely."""

from __future__ import annotations

import re
from markupsafe import escape

import pytest
from starlette.testclient import TestClient

from iotorino.core import inventory
from iotorino.export import registry
from tests.export.published import DATASET
from tests.web.conftest import DAYS, UNITS

PAGES = ["/", "/dati", f"/dati/{DATASET}", f"/dati/{DATASET}/modifiche", "/scuole", "/citta"]


@pytest.fixture
def client(app):
    return TestClient(app)


def twin(path: str) -> str:
    return "/index.json" if path == "/" else path + ".json"


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_in_italian_by_default_and_english_under_en(client, path):
    italian = client.get(path)
    assert italian.status_code == 200 and italian.headers["content-language"] == "it"
    assert '<html lang="it">' in italian.text and "Dati aperti" in italian.text
    english = TestClient(client.app).get("/en" + (path if path != "/" else ""))
    assert english.status_code == 200 and '<html lang="en">' in english.text and "Open data" in english.text
    data = client.get(twin(path))
    assert data.status_code == 200 and data.headers["content-type"] == "application/json"


def test_language_choice_is_remembered_in_a_cookie_and_switchable(app):
    client = TestClient(app)
    first = client.get("/dati?lang=en")
    assert 'lang="en"' in first.text and "lang=en" in first.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/citta").text  # the cookie
    assert '<html lang="it">' in client.get("/citta?lang=it").text
    assert '<html lang="it">' in client.get("/citta").text
    page = TestClient(app).get("/en/dati").text
    assert 'href="/dati?lang=it"' in page and 'href="/en/scuole"' in page


def test_dataset_list_matches_the_registry_and_its_twin(client):
    listed = client.get("/dati.json").json()["datasets"]
    assert [d["id"] for d in listed] == list(registry())
    mine = next(d for d in listed if d["id"] == DATASET)
    assert (mine["first_day"], mine["last_day"], mine["days"]) == (DAYS[0].isoformat(), DAYS[-1].isoformat(), 4)
    html = client.get("/dati").text
    for d in listed:
        assert f'href="/dati/{d["id"]}"' in html and escape(d["title"]["it"]) in html


def test_dataset_page_says_what_issue_14_asks(client):
    data = client.get(f"/dati/{DATASET}.json").json()
    assert data["licence"]["name"] == "CC BY 4.0" and "CC BY 4.0" in data["attribution"]["it"]
    assert data["frequency"] == "DAILY" and data["temporal"]["days"] == 4
    assert data["spatial"]["places"] == len(inventory.default().street_units)
    columns = {c["column"]: c for c in data["columns"]}
    assert columns["pm10_mean"]["unit"] == "ug/m3" and "10 µm" in columns["pm10_mean"]["description_en"]
    assert "10 µm" in columns["pm10_mean"]["description_it"] and columns["pm10_mean"]["description_it"].startswith("Media")
    assert data["quality"]["it"] and data["quality"]["en"]
    kinds = {(f["kind"], f["format"]) for f in data["files"]}
    assert kinds == {(k, f) for k in ("day", "month", "year") for f in ("parquet", "csv")}
    assert data["rows_per_day"] == {"days": [d.isoformat() for d in DAYS], "rows": [24 * len(UNITS)] * 4}
    assert set(data["examples"]) == {"pandas", "duckdb", "r"} and "https://dati.example.it/dati/" in data["examples"]["duckdb"]
    html = client.get(f"/dati/{DATASET}").text
    for f in data["files"]:
        assert f'href="{f["url"]}"' in html
    assert "read_parquet" in html and "library(arrow)" in html and "CC BY 4.0" in html


def test_the_data_dictionary_speaks_the_page_language(client):
    italian, english = client.get(f"/dati/{DATASET}").text, client.get(f"/en/dati/{DATASET}").text
    assert "Media oraria di: Particolato con diametro inferiore a 10 µm" in italian
    assert "Mean over the hour of: Particulate matter below 10 µm" in english
    assert "Mean over the hour of" not in italian and "Media oraria di" not in english


def test_schools_and_city_pages_show_the_inventory(client):
    fleet = inventory.default()
    schools = client.get("/scuole.json").json()
    # Nothing to rank by (no year of data): the worst-first order falls back to the names.
    assert [s["school_id"] for s in schools["schools"]] == [
        s.id for s in sorted(fleet.schools.values(), key=lambda s: (s.name.casefold(), s.id))]
    assert schools["today"] is None  # nothing published for the schools in this tree: every KPI empty
    assert all(s["electricity"]["kwh"] is None for s in schools["schools"])
    assert schools["totals"]["rooms"] == sum(len(s.rooms) for s in fleet.schools.values())
    html = client.get("/scuole").text
    assert all(escape(s.name) in html for s in fleet.schools.values())
    city = client.get("/citta.json").json()
    assert sum(d["units"] for d in city["districts"]) == len(fleet.street_units) == len(city["map"]["features"])


@pytest.mark.parametrize("path, key, named", [
    ("/dati/no_such_dataset", "dati.unknown_dataset", "no_such_dataset"),
    (f"/dati/{DATASET}/2026-02-30.parquet", "dati.unknown_date", "2026-02-30"),
    (f"/dati/{DATASET}/2025-06-01.parquet", "dati.no_file", "2025-06-01"),
    (f"/dati/{DATASET}/2026-01.xlsx", "dati.unknown_format", "xlsx"),
    (f"/dati/{DATASET}/passwd", "dati.unknown_file", "passwd"),
    ("/nowhere", "common.no_such_page", "/nowhere"),
])
def test_bad_addresses_get_a_404_that_says_why_in_both_languages(client, path, key, named):
    data = client.get(path, headers={"accept": "application/json"})
    assert data.status_code == 404 and data.json()["error"] == key
    assert named in data.json()["message"]["it"] and named in data.json()["message"]["en"]
    html = client.get(path)
    assert html.status_code == 404 and "Traceback" not in html.text and named in html.text


def test_nothing_can_be_written(client):
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/dati")
        assert response.status_code == 405
        assert "sola lettura" in response.text


def test_templates_use_only_known_messages():
    from pathlib import Path

    from iotorino.web import i18n

    known = set(i18n.catalogue("it"))
    used = set()
    for template in (Path(i18n.__file__).parent / "templates").rglob("*.html"):
        used |= set(re.findall(r"_\('([a-z_]+\.[a-z_]+)'[,)]", template.read_text()))
    assert used and used <= known, used - known


def test_changes_since_a_download_and_a_bad_since_is_a_400(client):
    everything = client.get(f"/dati/{DATASET}/modifiche.json").json()["changes"]
    assert [c["date"] for c in everything] == [d.isoformat() for d in [DAYS[1], *reversed(DAYS)]]
    revision = everything[0]
    assert (revision["kind"], revision["revised"], revision["added"]) == ("revised", len(UNITS), 0)
    assert set(revision["columns"]) == {"pm10_mean", "pm10_count"}
    assert revision["hours"] == [f"{DAYS[1].isoformat()}T00:00:00+01:00"]
    cut = everything[-1]["time"]
    later = client.get(f"/dati/{DATASET}/modifiche.json", params={"since": cut}).json()["changes"]
    assert all(c["time"] > cut for c in later)
    assert client.get(f"/dati/{DATASET}/modifiche.json", params={"since": "2000-01-01T00:00:00Z"}).json()["changes"] == everything
    bad = client.get(f"/dati/{DATASET}/modifiche.json", params={"since": "yesterday"})
    assert bad.status_code == 400 and "yesterday" in bad.json()["message"]["it"]


def test_pages_carry_a_content_security_policy_that_keeps_them_on_this_host(client):
    policy = client.get("/dati").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
