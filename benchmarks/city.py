"""City pages at a year's scale: 500 street units × a year of published air-quality and noise datasets.

The pages read published partitions (the map's live hour comes from the store;
without one, as here, from the newest published hour), so the benchmark writes a
year of `air_quality_index_hourly`, `noise_hourly`, `weather_hourly`,
`air_quality_daily`, `noise_daily` and `air_quality_indicators` for the 500 units
of the inventory (and the schools' hourly datasets), with the exports' own writer
from synthetic hours (`iotorino.testing.city_exports`). It then times, in the
application itself (server time, no network), `/citta`, a unit's page and a
district's page: p95 of `repeat` × 20 requests each after one warm-up request
(the first request of each reads the partitions and computes the profiles; its
time is reported too). Baseline from the same run: the home page's p95.
"""

from __future__ import annotations

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


def run(repeat: int = 3, tree: Path | None = None) -> list[Figure]:
    """p95 server time of /citta, a unit page and a district page against the home page's p95.

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
        client = TestClient(create_app(WebSettings(exports_dir=out, base_url="https://dati.example.it")))
        fleet = inventory.default()
        units = sorted(fleet.street_units)
        districts = sorted({u.district for u in fleet.street_units.values()})
        first = {}
        for path in ("/", "/citta", f"/citta/unita/{units[0]}", f"/citta/circoscrizioni/{districts[0]}"):
            started = time.perf_counter()
            assert client.get(path).status_code == 200, path
            first[path] = (time.perf_counter() - started) * 1000
        count = 20 * repeat
        home = _p95(client, ["/"], count)
        city = _p95(client, ["/citta"], count)
        unit = _p95(client, [f"/citta/unita/{u}" for u in units[:: max(1, len(units) // count)]], count)
        district = _p95(client, [f"/citta/circoscrizioni/{d}" for d in districts], count)
    note = f"500 units, a year of published datasets to {LAST}"
    return [
        Figure("/citta (map by current index), p95 server time", city, "ms", home, "home page p95", 500.0, note=note),
        Figure("unit page, p95 server time", unit, "ms", home, "home page p95", 300.0,
               note=f"first request {first[f'/citta/unita/{units[0]}']:.0f} ms (reads the year)"),
        Figure("district page, p95 server time", district, "ms", home, "home page p95", 300.0,
               note=f"first request {first[f'/citta/circoscrizioni/{districts[0]}']:.0f} ms (four weeks of hours, profiles)"),
    ]
