"""The monthly school report: one self-contained HTML page per school, Italian first, built from the open data.

Reads the month's partitions of `school_energy_daily` and `classroom_air_daily`
(and the same month a year before, for the comparison) from the exports
folder, and writes `reports/AAAA-MM/<school>.html`: no script, no external
file, charts as inline SVG, so it can be mailed, printed or opened offline.
The numbers come from `iotorino.schools.views`, the same functions the web
pages use.
"""

from __future__ import annotations

import calendar as month_calendar
import html
from datetime import date
from pathlib import Path

import pandas as pd

from iotorino.schools import views

MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
             "ottobre", "novembre", "dicembre")
FUEL_IT = {"electricity": "Elettricità", "heat": "Calore"}
FUEL_EN = {"electricity": "Electricity", "heat": "Heat"}
FINDING_IT = {"weekend": "acceso nel fine settimana", "holiday": "acceso in vacanza",
              "warm_day": "acceso in una giornata calda", "early_start": "acceso troppo presto",
              "out_of_season": "acceso fuori stagione"}


def read_month(exports: Path, dataset: str, first: date, last: date) -> pd.DataFrame:
    """The dataset's daily partitions in [first, last] (an empty frame when there are none)."""
    frames = []
    for day in pd.date_range(first, last, freq="D").date:
        path = exports / dataset / "data" / f"date={day.isoformat()}" / "part-0.parquet"
        if path.exists():
            frames.append(pd.read_parquet(path))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}{suffix}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.0f} %".replace("+", "+\u2009").replace("-", "−\u2009")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _bars(points: list[dict], colour: str) -> str:
    """An inline SVG bar chart of daily kWh (weekends and holidays lighter), with the scale and the dates."""
    values = [p["kwh"] or 0.0 for p in points]
    top = max(values, default=0.0) or 1.0
    width, height, gap, axis = 620, 150, 2, 18
    bar = (width - gap * len(points)) / max(len(points), 1)
    parts = [f'<text x="0" y="10" font-size="11" fill="#333">{html.escape(_fmt(top, 0, " kWh"))}</text>']
    for i, (p, v) in enumerate(zip(points, values)):
        h = (height - 14) * v / top
        shade = colour if p["day_type"] == "school" else colour + "80"
        label = html.escape(f"{p['date']}: {_fmt(p['kwh'], 0, ' kWh')}")
        parts.append(f'<rect x="{i * (bar + gap):.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                     f'fill="{shade}"><title>{label}</title></rect>')
    if points:
        parts.append(f'<text x="0" y="{height + axis - 4}" font-size="11" fill="#333">{points[0]["date"]}</text>')
        parts.append(f'<text x="{width}" y="{height + axis - 4}" font-size="11" fill="#333" text-anchor="end">'
                     f'{points[-1]["date"]}</text>')
    return (f'<svg role="img" aria-label="kWh giornalieri, giorni di scuola in colore pieno / daily kWh, school days '
            f'in full colour" viewBox="0 0 {width} {height + axis}" width="100%">{"".join(parts)}</svg>')


def render(school, year: int, month: int, daily: pd.DataFrame, before: pd.DataFrame, air: pd.DataFrame) -> str:
    """The report's HTML for one school and month."""
    first = date(year, month, 1)
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    title = f"{school.name} — {MONTHS_IT[month - 1]} {year}"
    sections = []
    for fuel in views.FUELS:
        mine = daily[(daily["school_id"] == school.id) & (daily["fuel"] == fuel)] if len(daily) else daily
        if not len(mine):
            continue
        kwh = mine["kwh"].dropna().sum()
        prior = before[(before["school_id"] == school.id) & (before["fuel"] == fuel)]["kwh"].dropna().sum() \
            if len(before) else 0.0
        data = views.series(daily, school.id, fuel, first, last)
        split = data["by_day_type"]
        total = sum(v or 0.0 for v in split.values())
        out_share = None if not total else 1 - (split["school_open"] or 0.0) / total
        rows = [
            ("Consumo del mese / Month's use", _fmt(kwh, 0, " kWh")),
            ("Rispetto allo stesso mese dell'anno scorso / Against the same month last year",
             _pct(kwh / prior - 1 if prior else None)),
            ("Costo / Cost", _fmt(mine["cost_eur"].dropna().sum(), 0, " €")),
            ("Emissioni / Emissions", _fmt(mine["co2e_kg"].dropna().sum(), 0, " kg CO₂e")),
            ("Quota fuori orario / Out-of-hours share", _share(out_share)),
        ]
        if fuel == "electricity":
            rows.append(("Carico di base medio / Mean baseload", _fmt(mine["baseload_kw"].dropna().mean()
                                                                       if mine["baseload_kw"].notna().any() else None,
                                                                       1, " kW")))
        table = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
        findings = ""
        if fuel == "heat":
            found = views.heating_model(daily, school.id, first, last)["findings"]
            if found:
                items = "".join(f"<li>{html.escape(f['date'])}: {html.escape(FINDING_IT.get(f['kind'], f['kind']))} "
                                f"({_fmt(f['kwh'], 0, ' kWh')})</li>" for f in found)
                findings = (f"<h3>Riscaldamento da correggere <span lang='en'>/ Heating to fix</span></h3>"
                            f"<ul>{items}</ul>")
        colour = "#b45309" if fuel == "heat" else "#1d4ed8"
        sections.append(
            f"<section><h2>{FUEL_IT[fuel]} <span lang='en'>/ {FUEL_EN[fuel]}</span></h2>"
            f"<table>{table}</table>{_bars(data['daily'], colour)}{findings}</section>")
    rooms = views.classrooms(air, school, first, last) if len(air) else []
    if rooms:
        items = "".join(
            f"<tr><th scope='row'>{html.escape(r['name'])}</th><td>{_fmt(r.get('co2_mean_ppm'), 0, ' ppm')}</td>"
            f"<td>{_share(r['share_poor'] + r['share_bad'] if 'share_poor' in r else None)}</td></tr>"
            for r in rooms)
        sections.append(
            "<section><h2>Aria nelle aule <span lang='en'>/ Classroom air</span></h2>"
            "<table><tr><th>Aula / Room</th><th>CO₂ medio in lezione / mean in lessons</th>"
            "<th>Quota di ore sopra 1.500 ppm / share of hours above 1,500 ppm</th></tr>" + items + "</table>"
            "<p>Sopra 1.500 ppm aprite le finestre per qualche minuto. "
            "<span lang='en'>Above 1,500 ppm, open the windows for a few minutes.</span></p></section>")
    if not sections:
        sections.append("<p>Nessun dato per questo mese. <span lang='en'>No data for this month.</span></p>")
    return (
        "<!doctype html><html lang='it'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><p>IoTorino — Scuole</p><h1>{html.escape(title)}</h1>"
        f"<p>Rapporto mensile dei consumi e dell'aria <span lang='en'>/ Monthly energy and air report</span></p>"
        f"</header><main>{''.join(sections)}</main>"
        "<footer><p>Dati: IoTorino, Città di Torino, licenza CC BY 4.0. Definizioni: docs/schools.md. "
        "<span lang='en'>Data: IoTorino, City of Turin, CC BY 4.0.</span></p></footer></body></html>"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}"
    "h1{font-size:1.6rem;margin:.2rem 0}h2{border-bottom:2px solid #111;padding-bottom:.2rem}"
    "table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{text-align:left;padding:.3rem .4rem;"
    "border-bottom:1px solid #ccc}td{text-align:right}span[lang=en]{color:#444;font-size:.9em}"
    "header p:first-child{font-weight:600;color:#1d4ed8}footer{margin-top:2rem;font-size:.85rem;color:#333}"
)


def write_reports(exports: Path, year: int, month: int, out: Path, inventory) -> list[Path]:
    """Write every school's report for the month into `out/AAAA-MM/`; returns the paths."""
    first = date(year, month, 1)
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    daily = read_month(exports, "school_energy_daily", first, last)
    prior_last = date(year - 1, month, month_calendar.monthrange(year - 1, month)[1])
    before = read_month(exports, "school_energy_daily", date(year - 1, month, 1), prior_last)
    air = read_month(exports, "classroom_air_daily", first, last)
    folder = out / f"{year:04d}-{month:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for school in sorted(inventory.schools.values(), key=lambda s: s.id):
        path = folder / f"{school.id}.html"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(render(school, year, month, daily, before, air), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
