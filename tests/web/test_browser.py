"""The pages in a real headless chromium: no console error, nothing fetched from outside, charts and maps hold data.

A screenshot of each page (Italian and English, and one on a phone) is written
for review to artifacts/screenshots (or $IOTORINO_ARTIFACTS/screenshots).
"""

from __future__ import annotations

import pytest

from iotorino.core import inventory
from tests.export.published import DATASET
from tests.web.conftest import DAYS

PAGES = {
    "home": "/",
    "dati": "/dati",
    "dataset": f"/dati/{DATASET}",
    "modifiche": f"/dati/{DATASET}/modifiche",
    "scuole": "/scuole",
    "citta": "/citta",
    "allerte": "/allerte",
}
# WCAG 2.1 contrast ratio of an element's text against the first opaque background behind it.
CONTRAST = """
(() => {
  const lum = (rgb) => { const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; const a = c.match(/[\\d.]+/g); if (a && (a.length < 4 || Number(a[3]) > 0.5)) return c; } return "rgb(255,255,255)"; };
  const worst = [];
  for (const el of document.querySelectorAll("h1, p, a, th, td, li, dt, dd, figcaption, summary, code")) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const [l1, l2] = [lum(getComputedStyle(el).color), lum(background(el))].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.textContent.trim().slice(0, 30), ratio.toFixed(2)]);
  }
  return worst;
})()
"""


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_clean_in_the_browser(server, browser_page, name, lang):
    path = PAGES[name] if lang == "it" else "/en" + PAGES[name].rstrip("/")
    browser_page.goto(server.url + path + ("?lang=it" if lang == "it" else ""))
    browser_page.assert_clean(server.url)
    assert browser_page.evaluate("document.documentElement.lang") == lang
    assert browser_page.evaluate(CONTRAST) == []
    assert browser_page.screenshot(f"{name}-{lang}").stat().st_size > 5_000


def test_dataset_page_chart_and_map_hold_the_data(server, browser_page):
    browser_page.goto(server.url + PAGES["dataset"] + "?lang=it")
    browser_page.assert_clean(server.url)
    assert browser_page.evaluate("document.querySelector('[data-chart]').dataset.points") == str(len(DAYS))
    assert browser_page.evaluate("document.querySelectorAll('[data-chart] canvas').length") >= 1
    units = len(inventory.default().street_units)
    assert browser_page.evaluate("document.querySelector('[data-map]').dataset.markers") == str(units)
    assert browser_page.evaluate("document.querySelectorAll('.leaflet-interactive').length") == units + 1  # + the bbox outline
    assert browser_page.evaluate("document.querySelectorAll('table.files tbody tr').length") >= 10


def test_schools_and_city_maps_hold_every_place(server, browser_page):
    fleet = inventory.default()
    for path, count in (("/scuole", len(fleet.schools)), ("/citta", len(fleet.street_units))):
        browser_page.goto(server.url + path)
        browser_page.assert_clean(server.url)
        assert browser_page.evaluate("document.querySelector('[data-map], [data-city-map]').dataset.markers") == str(count)


def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(server, browser_page):
    browser_page.goto(server.url + "/dati?lang=it")
    browser_page.press("Tab", "Tab", 9)
    assert browser_page.evaluate("document.activeElement.className") == "skip"
    assert browser_page.evaluate("getComputedStyle(document.activeElement).left") != "-999px"
    browser_page.press("Enter", "Enter", 13)
    browser_page.pump(0.3)
    assert browser_page.evaluate("document.activeElement.id") == "main"


def test_pages_fit_a_phone_screen(server, browser_page):
    browser_page.viewport(390, 844, mobile=True)
    for name in PAGES:
        browser_page.goto(server.url + PAGES[name] + "?lang=it")
        browser_page.assert_clean(server.url)
        assert browser_page.evaluate("document.documentElement.scrollWidth") <= 390, name
        browser_page.screenshot(f"{name}-phone")
