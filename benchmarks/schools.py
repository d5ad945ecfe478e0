"""School dashboards over one simulated school year of the 40 schools, from a real InfluxDB.

1. A private influxd receives the school year 1 September 2025 – 31 August 2026
   (`days` days from `FIRST`) of every school device — classrooms every 5 min,
   electricity and heat meters every 15 min, outdoor stations every 10 min —
   from the simulator's own models, written in bulk (`iotorino.simulate.history`,
   the collector's series, not over MQTT), plus the last hour up to now so the
   pupils' page has classrooms' air "now".
2. The school exports run for every day of that year, `jobs` days at once
   (`iotorino.export.backfill.export_days`): `school_energy_hourly`,
   `school_heat_hourly`, `school_energy_daily`, `classroom_air_daily`. That is
   "the KPI computation for a year"; its baseline is the floor of reading the
   same raw points (CSV, the fastest transfer InfluxDB 1.x offers) on a week of
   days spread over the year, times the year.
3. The web application over those exports and that store, in-process (server
   time, no network): p95 of `repeat` × 20 requests each (after one warm-up of
   every page) of a school's page (the 40 in turn), the city overview, and the
   pupils' page (which asks the store for each classroom's CO₂ now), against the
   home page in the same run. The school page is timed twice: warm (its view
   model kept for the published data version, the request only renders) and
   computed on every request (the cache emptied before each, as before the
   cache: the first request after a publication).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

from benchmarks.report import Figure

FIRST = date(2025, 9, 1)  # the first day of the school year 2025-26 (the regional calendar's year)
DATASETS = ("school_energy_hourly", "school_heat_hourly", "school_energy_daily", "classroom_air_daily")
MEASUREMENTS = ("indoor_climate", "energy", "heat", "outdoor_climate")
DATABASE = "iotorino"


def _p95(client, paths: list[str], count: int, before=None) -> float:
    times = []
    for i in range(count):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(paths[i % len(paths)])
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (paths[i % len(paths)], response.status_code)
    return statistics.quantiles(times, n=20)[-1] * 1000


def _read_floor(store, days: list[date]) -> float:
    """Seconds to read the school measurements' raw points of `days` as CSV."""
    from iotorino.export.window import local_day

    started = time.perf_counter()
    for day in days:
        window = local_day(day)
        for name in MEASUREMENTS:
            store.query_csv(f'SELECT * FROM "{name}" WHERE time >= {window.start_ns} AND time < {window.end_ns} GROUP BY *')
    return time.perf_counter() - started


def run(repeat: int = 3, days: int = 365, jobs: int = 2) -> list[Figure]:
    """Load the year, export it, and time the pages (see the module docstring)."""
    from starlette.testclient import TestClient

    from iotorino.core import inventory
    from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
    from iotorino.export.backfill import export_days
    from iotorino.services import Influxd
    from iotorino.simulate import history
    from iotorino.simulate.period import TURIN
    from iotorino.web import WebSettings, create_app
    from iotorino.web.sections.school_data import ModelCache

    year = [FIRST + timedelta(days=i) for i in range(days)]
    with tempfile.TemporaryDirectory(prefix="iotorino-bench-schools-") as tmp:
        server = Influxd(Path(tmp) / "influxd").start()
        try:
            settings = InfluxV1Settings(url=server.url, database=DATABASE, timeout_s=600)
            store = InfluxV1Client(settings)
            store.create_database()
            out = Path(tmp) / "exports"
            # Built first: an application that cannot start (no vendored assets) fails before the long part.
            app = create_app(WebSettings(exports_dir=out, base_url="https://dati.example.it", store=store))
            # An hour either side: the first and last days' registers need a reading before and after them.
            start = datetime.combine(year[0], dtime(0), TURIN) - timedelta(hours=1)
            end = datetime.combine(year[-1] + timedelta(days=1), dtime(0), TURIN) + timedelta(hours=1)
            print(f"  loading {year[0]} to {year[-1]} for every school into InfluxDB ({jobs} processes)", flush=True)
            began = time.perf_counter()
            loaded = history.load(settings, start, end, jobs=jobs)
            load_s = time.perf_counter() - began
            now = datetime.now(timezone.utc).replace(microsecond=0)
            history.load(settings, now - timedelta(hours=1), now)
            print(f"  loaded {loaded.points:,} points of {loaded.streams} streams in {load_s:.0f} s "
                  f"({loaded.points / load_s:,.0f} points/s)", flush=True)

            print(f"  exporting {len(DATASETS)} school datasets for {len(year)} days ({jobs} days at once)", flush=True)
            began = time.perf_counter()
            for done, (day, _) in enumerate(export_days(DATASETS, year, settings, out, jobs, trigger="benchmark"), 1):
                if done % 30 == 0:
                    print(f"    {done} days, {time.perf_counter() - began:.0f} s", flush=True)
            export_s = time.perf_counter() - began
            sample = year[:: max(1, len(year) // 7)][:7]
            floor_s = _read_floor(store, sample) / len(sample) * len(year)
            print(f"  exported in {export_s:.0f} s; raw read floor {floor_s:.0f} s for the {len(year)} days", flush=True)

            client = TestClient(app)
            schools = sorted(inventory.default().schools)
            for path in ("/", "/scuole", *(f"/scuole/{s}{page}" for s in schools for page in ("", "/alunni"))):
                client.get(path)  # warm-up: the first requests read the partitions and compute the view models
            count = 20 * repeat
            home = _p95(client, ["/"], count)
            overview = _p95(client, ["/scuole"], count)
            school = _p95(client, [f"/scuole/{s}" for s in schools], count)
            cold = _p95(client, [f"/scuole/{s}" for s in schools], count,
                        before=lambda: setattr(app.state, "school_models", ModelCache()))
            pupils = _p95(client, [f"/scuole/{s}/alunni" for s in schools], count)
            store.close()
        finally:
            server.stop()
    note = f"{len(year)} simulated days of 40 schools ({loaded.points / 1e6:.1f} M points) in InfluxDB"
    return [
        Figure("school page, p95 server time", school, "ms", home, "home page p95", 300.0, note=note),
        Figure("school page computed on every request (no view-model cache), p95", cold, "ms", school,
               "the same page warm"),
        Figure("city overview of the schools, p95 server time", overview, "ms", home, "home page p95", 500.0),
        Figure("pupils' page (CO2 now from the store), p95", pupils, "ms", home, "home page p95"),
        Figure(f"a year's school KPIs: {len(DATASETS)} exports x {len(year)} days", export_s / 60, "min",
               floor_s / 60, "raw read of the same points", note=f"{jobs} days at once"),
        Figure("loading the simulated year into InfluxDB", load_s / 60, "min",
               note=f"{loaded.points / load_s:,.0f} points/s, {jobs} processes"),
    ]
