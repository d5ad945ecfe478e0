"""School dashboards at a year's scale: 40 schools × 2 fuels × 365 days of published daily KPIs.

The pages read the published `school_energy_daily` and `classroom_air_daily`
partitions (not InfluxDB), so the benchmark writes a year of them with the
exports' own writer (kWh shaped by weekday, season and school size), then
times, in the application itself (server time, no network), the city overview
and a school's page, p95 of `repeat` × 20 requests each after one warm-up, and
the KPIs of a whole year for every school (`views.overview`). Baselines from the
same run: the home page (the application's floor) and reading the year's
partitions into one frame.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.report import Figure

LAST = date(2026, 11, 30)


def _write_year(out: Path, days: int = 365) -> None:
    from iotorino.core import inventory
    from iotorino.export import parquet
    from iotorino.export.school_daily import AIR_COLUMNS, ENERGY_COLUMNS

    schools = sorted(inventory.default().schools.values(), key=lambda s: s.id)
    for i in range(days):
        day = LAST - timedelta(days=i)
        school_day = day.weekday() < 5
        winter = 1.0 if day.month in (11, 12, 1, 2, 3) else 0.0
        data = {c.name: [] for c in ENERGY_COLUMNS}
        for n, school in enumerate(schools):
            for fuel in ("electricity", "heat"):
                size = school.pupils / 400
                kwh = (200 * size * (1 if school_day else 0.35)) if fuel == "electricity" else 900 * size * winter
                row = {c.name: None for c in ENERGY_COLUMNS}
                row.update(school_id=school.id, fuel=fuel, local_date=day, day_type="school" if school_day else "weekend",
                           calendar_known=True, kwh=kwh, covered_share=1.0,
                           kwh_school_open=0.6 * kwh if school_day else 0.0,
                           kwh_school_closed=0.4 * kwh if school_day else 0.0,
                           kwh_weekend=0.0 if school_day else kwh, kwh_holiday=0.0, baseload_kw=2 + n % 5,
                           peak_kw=30.0, cost_eur=0.25 * kwh, co2e_kg=0.27 * kwh, degree_days=10 * winter,
                           heating_finding="weekend" if fuel == "heat" and winter and not school_day and n % 7 == 0 else None)
                for name in data:
                    data[name].append(row[name])
        parquet.write_partition(parquet.build_table(ENERGY_COLUMNS, data), out, "school_energy_daily", day)
        if i < 28:
            air = {c.name: [] for c in AIR_COLUMNS}
            for school in schools:
                for room in school.rooms:
                    row = {c.name: None for c in AIR_COLUMNS}
                    row.update(school_id=school.id, room_id=room.id, local_date=day,
                               teaching_hours=9 if school_day else 0, capture=1.0 if school_day else None,
                               co2_teaching_mean_ppm=1100.0 if school_day else None, co2_teaching_max_ppm=1800.0,
                               co2_share_good=0.3, co2_share_fair=0.4, co2_share_poor=0.2, co2_share_bad=0.1)
                    for name in air:
                        air[name].append(row[name])
            parquet.write_partition(parquet.build_table(AIR_COLUMNS, air), out, "classroom_air_daily", day)


def _p95(client, paths: list[str], count: int) -> float:
    times = []
    for i in range(count):
        started = time.perf_counter()
        response = client.get(paths[i % len(paths)])
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (paths[i % len(paths)], response.status_code)
    return statistics.quantiles(times, n=20)[-1] * 1000


def run(repeat: int = 3) -> list[Figure]:
    """The pages' p95 server time and a year's KPIs, against the home page and reading the partitions."""
    from starlette.testclient import TestClient

    from iotorino.core import inventory
    from iotorino.schools import views
    from iotorino.web import WebSettings, create_app
    from iotorino.web.sections.school_data import SchoolData

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print("  writing a year of published school KPIs (40 schools)", flush=True)
        _write_year(out)
        client = TestClient(create_app(WebSettings(exports_dir=out, base_url="https://dati.example.it")))
        schools = sorted(inventory.default().schools)
        for path in ("/", "/scuole", f"/scuole/{schools[0]}"):  # warm-up: the first request loads the year
            client.get(path)
        count = 20 * repeat
        home = _p95(client, ["/"], count)
        overview = _p95(client, ["/scuole"], count)
        school = _p95(client, [f"/scuole/{s}" for s in schools], count)
        reads, kpis = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            frame = SchoolData(out).energy()
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            views.overview(frame, list(inventory.default().schools.values()), LAST)
            kpis.append(time.perf_counter() - started)
    return [
        Figure("school page, p95 server time", school, "ms", home, "home page p95", 300.0,
               note="40 schools, a year of published daily KPIs"),
        Figure("city overview of the schools, p95 server time", overview, "ms", home, "home page p95", 500.0),
        Figure("a year's KPIs for every school", statistics.median(kpis) * 1000, "ms",
               statistics.median(reads) * 1000, "reading the year's partitions"),
    ]
