"""City pages at a year's scale: 500 street units × a year of published air-quality and noise datasets.

The pages read published partitions (the map's live hour comes from the store;
without one, as here, from the newest published hour), so the benchmark writes a
year of `air_quality_index_hourly`, `noise_hourly`, `weather_hourly`,
`air_quality_daily`, `noise_daily` and `air_quality_indicators` for the 500 units
of the inventory (and the schools' hourly datasets), with the exports' own writer
from synthetic hours (`iotorino.testing.city_exports`). It then times, in the
application itself (server time, no network): the first request of a unit
and a district page in an app computing on demand (cold), the first unit page
while the start-up warm-up runs and the warm-up's length; then p95 of
`repeat` × 20 requests of `/citta`, unit pages (20 units) and district pages,
against the same pages with their view models built and their HTML rendered on
every request (as before the caches), in the same run.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.report import Figure
from benchmarks.schools import _p95  # the same timing as the school pages: p95 of server time, ms

LAST = date(2026, 11, 30)
MARKER = ".city-benchmark-complete"


def _write_year(out: Path) -> None:
    from iotorino.core import inventory
    from iotorino.testing.city_exports import write_city

    fleet = inventory.default()
    units = sorted(fleet.street_units.values(), key=lambda u: u.id)
    schools = sorted(fleet.schools.values(), key=lambda s: s.id)
    write_city(out, units, schools, LAST, hourly_days=(LAST - date(LAST.year, 1, 1)).days + 1, indicator_days=366)
    (out / MARKER).write_text(LAST.isoformat())


@contextlib.contextmanager
def _per_request(app):
    """The pages as they were built before: view models built and HTML rendered on every request."""
    from iotorino.web import pages
    from iotorino.web.sections import city

    data = city.data_of(app.state)
    real, kept = data.derived, pages.RENDERED_PAGES
    data.derived = lambda name, key, compute: (compute() if name.startswith(("unit_model:", "index_model"))
                                               else real(name, key, compute))
    pages.RENDERED_PAGES = 0
    try:
        yield
    finally:
        del data.derived
        pages.RENDERED_PAGES = kept


def _first(client, path: str) -> float:
    started = time.perf_counter()
    assert client.get(path).status_code == 200, path
    return (time.perf_counter() - started) * 1000


def run(repeat: int = 3, tree: Path | None = None) -> list[Figure]:
    """Cold start (on demand, and with the start-up warm-up) and p95 server time of /citta, a unit page and a
    district page, each against the same pages built and rendered on every request, in the same run.

    `tree`: a folder to keep the generated year in (written once, reused when complete).
    """
    from starlette.testclient import TestClient

    from iotorino.core import inventory
    from iotorino.web import WebSettings, create_app

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tree) if tree else Path(tmp)
        if not (out / MARKER).exists():
            print(f"  writing a year of published city datasets (500 units) to {out}", flush=True)
            started = time.perf_counter()
            _write_year(out)
            print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)
        settings = WebSettings(exports_dir=out, base_url="https://dati.example.it")
        fleet = inventory.default()
        units = sorted(fleet.street_units)
        districts = sorted({u.district for u in fleet.street_units.values()})
        unit_path, district_path = f"/citta/unita/{units[0]}", f"/citta/circoscrizioni/{districts[0]}"
        # Cold, on demand: an app without its lifespan, so nothing is warmed; the first visitors wait.
        cold = TestClient(create_app(settings))
        cold_unit, cold_district = _first(cold, unit_path), _first(cold, district_path)
        # With the warm-up the app's lifespan starts: the first visitor waits at most for what is left.
        app = create_app(settings)
        with TestClient(app) as client:
            started = time.perf_counter()
            warm_unit = _first(client, f"/citta/unita/{units[-1]}")
            app.state.city_warming.join()
            warmed = time.perf_counter() - started
            count = 20 * repeat
            sample = [f"/citta/unita/{u}" for u in units[:: max(1, len(units) // 20)]]
            with _per_request(app):
                before = {"city": _p95(client, ["/citta"], count), "unit": _p95(client, sample, count),
                          "district": _p95(client, [f"/citta/circoscrizioni/{d}" for d in districts], count)}
            after = {"city": _p95(client, ["/citta"], count), "unit": _p95(client, sample, count),
                     "district": _p95(client, [f"/citta/circoscrizioni/{d}" for d in districts], count)}
    note = f"500 units, a year of published datasets to {LAST}"
    baseline = "built and rendered per request"
    return [
        Figure("unit page, first request without warm-up", cold_unit, "ms", note="reads the year's partitions"),
        Figure("district page, first request without warm-up", cold_district, "ms", note="four weeks of hours, profiles"),
        Figure("unit page, first request while warming up", warm_unit, "ms",
               note=f"the warm-up (every unit, profiles, schools) took {warmed:.1f} s"),
        Figure("/citta (map by current index), p95 server time", after["city"], "ms", before["city"], baseline, 500.0,
               note=note),
        Figure("unit page, p95 server time", after["unit"], "ms", before["unit"], baseline, 300.0,
               note="20 units, each asked several times"),
        Figure("district page, p95 server time", after["district"], "ms", before["district"], baseline, 300.0),
    ]
