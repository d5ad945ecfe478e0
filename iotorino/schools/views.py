"""What the school dashboards show, computed from the published daily KPIs: pure functions to JSON-able dicts.

The web pages and their JSON twins render these dicts and nothing else, so
every number on a page can be read from an endpoint and recomputed in the
tests. Inputs are frames of the `school_energy_daily` and `classroom_air_daily`
datasets (one row per school, fuel and local day; per classroom and day) and
the inventory's schools.

- **Overview** (the energy manager): per school the last 365 days' kWh per fuel,
  € and kg CO₂e, kWh/m² and per pupil, mean baseload and out-of-hours share,
  the saving at exemplar level, and the rank among schools of the same level
  (1 = uses least per pupil for electricity, per m² for heat), and its rank by each sortable KPI;
  `sort_rows` orders the rows by a KPI, worst first by default (see `SORT_KEYS`).
- **School page** (head teacher, caretaker): per fuel the year's totals, the change
  against the same 365 days a year before and the last 4 weeks against the 4 weeks
  before (each only when both periods have few gaps: 300 of 365 days, 24 of 28), daily and weekly series, the baseload series, the day-type breakdown,
  the heating model and the days heating ran when it should not have; classrooms'
  air over the last 4 weeks.
- **Pupil view**: this week against last week in kWh, and what that is in things
  a child knows (the equivalences below), and each classroom's CO₂ now.

Equivalences (assumptions, stated on the page): a 100 W television for an hour
uses 0.1 kWh; a smartphone charge about 0.015 kWh; an average car emits about
0.12 kg CO₂ per km (EU new-car fleet average, order of magnitude).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from iotorino.schools import energy, heating

TV_KWH_PER_HOUR = 0.1
PHONE_CHARGE_KWH = 0.015
CAR_KG_CO2_PER_KM = 0.12
FUELS = ("electricity", "heat")


def _window(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Rows with `local_date` in [first, last] (dates, or datetimes read from Parquet)."""
    dates = frame["local_date"]
    if pd.api.types.is_datetime64_any_dtype(dates):
        dates = dates.dt.date
    return frame[(dates >= first) & (dates <= last)]


def _sum(frame: pd.DataFrame, column: str) -> float | None:
    values = frame[column].dropna()
    return float(values.sum()) if len(values) else None


def _mean(frame: pd.DataFrame, column: str) -> float | None:
    values = frame[column].dropna()
    return float(values.mean()) if len(values) else None


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before <= 0:
        return None
    return now / before - 1.0


def year_summary(daily: pd.DataFrame, school, fuel: str, today: date) -> dict:
    """One school's and fuel's last 365 days (to `today` included) against the 365 before, and 4 weeks vs 4."""
    if "school_id" not in daily:  # nothing published yet
        daily = pd.DataFrame(columns=["school_id", "fuel", "local_date", "day_type", "kwh", "kwh_school_open",
                                      "cost_eur", "co2e_kg", "baseload_kw", "peak_kw"])
    rows = daily[(daily["school_id"] == school.id) & (daily["fuel"] == fuel)]
    year = _window(rows, today - timedelta(days=364), today)
    before = _window(rows, today - timedelta(days=729), today - timedelta(days=365))
    weeks = _window(rows, today - timedelta(days=27), today)
    weeks_before = _window(rows, today - timedelta(days=55), today - timedelta(days=28))
    kwh = _sum(year, "kwh")
    summary = {
        "fuel": fuel,
        "days": int(year["kwh"].notna().sum()),
        "kwh": kwh,
        "cost_eur": _sum(year, "cost_eur"),
        "co2e_kg": _sum(year, "co2e_kg"),
        "kwh_per_m2": kwh / school.floor_area_m2 if kwh is not None else None,
        "kwh_per_pupil": kwh / school.pupils if kwh is not None else None,
        # A change only between periods with few gaps (300 of 365 days, 24 of 28): anything less would mislead.
        "change_year": _change(kwh, _sum(before, "kwh")) if _days(year) >= 300 and _days(before) >= 300 else None,
        "change_4_weeks": (_change(_sum(weeks, "kwh"), _sum(weeks_before, "kwh"))
                           if _days(weeks) >= 24 and _days(weeks_before) >= 24 else None),
        "change_year_normalised": _normalised_change(year, before) if fuel == "heat" else None,
        "out_of_hours_share": _out_of_hours(year),
        "baseload_kw": _mean(year, "baseload_kw") if fuel == "electricity" else None,
        "peak_kw": _mean(year[year["day_type"] == "school"], "peak_kw"),
    }
    summary.update(_exemplar(summary, school, fuel))
    return summary


def _normalised_change(year: pd.DataFrame, before: pd.DataFrame) -> float | None:
    """Heat's weather-normalised change: (kWh/GG of the 365 days) / (kWh/GG of the 365 before) − 1.

    Both periods need 300 days with kWh, as for the plain change; GG are the days' degree days (0 out of season).
    """
    if _days(year) < 300 or _days(before) < 300 or "degree_days" not in year:
        return None
    gg_now, gg_before = _sum(year, "degree_days"), _sum(before, "degree_days")
    kwh_now, kwh_before = _sum(year, "kwh"), _sum(before, "kwh")
    if None in (gg_now, gg_before, kwh_now, kwh_before):
        return None
    return heating.normalised_change(kwh_now, gg_now, kwh_before, gg_before)


def _days(frame: pd.DataFrame) -> int:
    return int(frame["kwh"].notna().sum())


def _out_of_hours(frame: pd.DataFrame) -> float | None:
    total = _sum(frame, "kwh")
    opened = _sum(frame, "kwh_school_open")
    if not total or opened is None:
        return None
    return 1.0 - opened / total


def _exemplar(summary: dict, school, fuel: str) -> dict:
    """Typical and exemplar annual kWh for the school, and the kWh and € a year saved at exemplar level."""
    if fuel == "electricity":
        refs = energy.annual_electricity_kwh(school.level, school.pupils)
    else:
        refs = energy.annual_heat_kwh(school.floor_area_m2)
    kwh, days = summary["kwh"], summary["days"]
    out = {"typical_kwh": refs["typical"], "exemplar_kwh": refs["exemplar"],
           "saving_kwh": None, "saving_eur": None}
    if kwh is not None and days >= 300:  # a year with few gaps; otherwise a saving would mislead
        saving = max(0.0, kwh - refs["exemplar"])
        out["saving_kwh"] = saving
        if summary["cost_eur"] is not None and kwh > 0:
            out["saving_eur"] = saving * summary["cost_eur"] / kwh
    return out


def overview(daily: pd.DataFrame, schools: list, today: date, active_alerts: dict[str, int] | None = None) -> dict:
    """The city overview: one row per school with its KPIs and its rank among schools of its level."""
    active_alerts = active_alerts or {}
    # One pass to split the frame by school and fuel; each summary then filters a few hundred rows.
    groups = dict(iter(daily.groupby(["school_id", "fuel"]))) if "school_id" in daily and len(daily) else {}
    empty = daily.iloc[0:0] if "school_id" in daily else daily
    rows = []
    for school in sorted(schools, key=lambda s: s.id):
        fuels = {fuel: year_summary(groups.get((school.id, fuel), empty), school, fuel, today) for fuel in FUELS}
        rows.append({
            "school_id": school.id, "name": school.name, "level": school.level, "district": school.district,
            "pupils": school.pupils, "floor_area_m2": school.floor_area_m2, "lon": school.lon, "lat": school.lat,
            "electricity": fuels["electricity"], "heat": fuels["heat"],
            "saving_eur": _total(fuels["electricity"]["saving_eur"], fuels["heat"]["saving_eur"]),
            "active_alerts": active_alerts.get(school.id, 0),
        })
    _rank(rows, "electricity", "kwh_per_pupil")
    _rank(rows, "heat", "kwh_per_m2")
    for key in SORT_KEYS:
        _rank_by(rows, key)
    return {"today": today.isoformat(), "schools": rows}


def _total(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


# The overview's sortable KPIs, by their name in `?ordina=`: the value of a row (None: no value), higher = worse.
# "spreco" (the default, "worst first"): the € a year the school would save at exemplar level, electricity and
# heat together, each at the school's own price; it needs a year with few gaps (see `_exemplar`).
SORT_KEYS = {
    "spreco": lambda r: r["saving_eur"],
    "elettricita": lambda r: r["electricity"]["kwh"],
    "kwh_alunno": lambda r: r["electricity"]["kwh_per_pupil"],
    "carico_base": lambda r: r["electricity"]["baseload_kw"],
    "fuori_orario": lambda r: r["electricity"]["out_of_hours_share"],
    "calore_m2": lambda r: r["heat"]["kwh_per_m2"],
}
DEFAULT_SORT = "spreco"
NAME_SORT = "nome"


def sort_rows(rows: list[dict], key: str, worst_first: bool = True) -> list[dict]:
    """The overview's rows ordered by `key` (a `SORT_KEYS` name, or `nome`).

    By a KPI: the schools with a value, worst first (highest) or best first, ties by name; then those
    without a value, by name. By `nome`: alphabetical (`worst_first` False) or the reverse.
    """
    if key == NAME_SORT:
        return sorted(rows, key=lambda r: (r["name"].casefold(), r["school_id"]), reverse=worst_first)
    value = SORT_KEYS[key]
    valued = [r for r in rows if value(r) is not None]
    valued.sort(key=lambda r: (r["name"].casefold(), r["school_id"]))
    valued.sort(key=value, reverse=worst_first)  # stable: equal values stay in name order
    return valued + sorted((r for r in rows if value(r) is None), key=lambda r: (r["name"].casefold(), r["school_id"]))


def _rank_by(rows: list[dict], key: str) -> None:
    """`row["ranks"][key]` = (rank, of): 1 = the lowest value (the best) among schools of the same level."""
    value = SORT_KEYS[key]
    by_level: dict[str, list[dict]] = {}
    for row in rows:
        by_level.setdefault(row["level"], []).append(row)
    for group in by_level.values():
        valued = sorted((r for r in group if value(r) is not None), key=value)
        for row in group:
            row.setdefault("ranks", {})[key] = None
        first: dict[float, int] = {}  # equal values share the better rank (competition ranking: 1, 1, 3)
        for position, row in enumerate(valued, start=1):
            first.setdefault(value(row), position)
        for row in valued:
            row["ranks"][key] = {"rank": first[value(row)], "of": len(valued)}


def _rank(rows: list[dict], fuel: str, key: str) -> None:
    """Rank 1 = least `key` among schools of the same level; None without a value."""
    by_level: dict[str, list[dict]] = {}
    for row in rows:
        by_level.setdefault(row["level"], []).append(row)
    for group in by_level.values():
        valued = sorted((r for r in group if r[fuel][key] is not None), key=lambda r: r[fuel][key])
        for position, row in enumerate(valued, start=1):
            row[fuel]["rank"] = position
            row[fuel]["rank_of"] = len(valued)
        for row in group:
            row[fuel].setdefault("rank", None)
            row[fuel].setdefault("rank_of", len(valued))


def series(daily: pd.DataFrame, school_id: str, fuel: str, first: date, last: date) -> dict:
    """Daily and weekly (Monday-based) kWh, daily baseload, and the day-type breakdown over [first, last]."""
    rows = _window(daily[(daily["school_id"] == school_id) & (daily["fuel"] == fuel)], first, last)
    rows = rows.sort_values("local_date")
    dates = pd.to_datetime(rows["local_date"])
    weekly = rows.assign(week=(dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date)
    weeks = weekly.groupby("week")["kwh"].sum(min_count=1)
    return {
        "daily": [{"date": str(d), "kwh": _num(k), "baseload_kw": _num(b), "day_type": t}
                  for d, k, b, t in zip(rows["local_date"], rows["kwh"], rows["baseload_kw"], rows["day_type"])],
        "weekly": [{"week": str(w), "kwh": _num(k)} for w, k in weeks.items()],
        "by_day_type": {t: _sum(rows, f"kwh_{t}") for t in energy.DAY_TYPES},
    }


def heating_model(daily: pd.DataFrame, school_id: str, first: date, last: date) -> dict:
    """The degree-day fit of heat on school days, and the days heating ran when it should not have."""
    rows = _window(daily[(daily["school_id"] == school_id) & (daily["fuel"] == "heat")], first, last)
    fit_rows = rows[(rows["day_type"] == "school") & (rows["degree_days"].fillna(0) > 0)]
    model = heating.fit(fit_rows.set_index("local_date")["kwh"], fit_rows.set_index("local_date")["degree_days"])
    findings = rows[rows["heating_finding"].notna()]
    return {
        "model": None if model is None else {"intercept_kwh": model.intercept, "kwh_per_degree_day": model.slope,
                                             "r2": model.r2, "days": model.days},
        "points": [{"date": str(d), "degree_days": _num(g), "kwh": _num(k)}
                   for d, g, k in zip(fit_rows["local_date"], fit_rows["degree_days"], fit_rows["kwh"])],
        "findings": [{"date": str(d), "kind": k, "kwh": _num(v)}
                     for d, k, v in zip(findings["local_date"], findings["heating_finding"], findings["kwh"])],
        "wasted_kwh": _sum(findings, "kwh"),
    }


def classrooms(air: pd.DataFrame, school, first: date, last: date) -> list[dict]:
    """Per classroom over [first, last]: teaching-hours CO₂ mean and band shares weighted by teaching hours."""
    rows = _window(air[air["school_id"] == school.id], first, last)
    out = []
    for room in school.rooms:
        mine = rows[(rows["room_id"] == room.id) & (rows["teaching_hours"] > 0) & rows["co2_teaching_mean_ppm"].notna()]
        weights = (mine["teaching_hours"] * mine["capture"].fillna(0)).to_numpy(float)
        entry = {"room_id": room.id, "name": room.name, "days": int(len(mine))}
        if weights.sum() > 0:
            entry["co2_mean_ppm"] = float(np.average(mine["co2_teaching_mean_ppm"], weights=weights))
            entry["co2_max_ppm"] = _num(mine["co2_teaching_max_ppm"].max())
            for band in ("good", "fair", "poor", "bad"):
                entry[f"share_{band}"] = float(np.average(mine[f"co2_share_{band}"].fillna(0), weights=weights))
        out.append(entry)
    return out


def pupil_week(daily: pd.DataFrame, school_id: str, today: date) -> dict:
    """This week (Monday to `today`) against the same days of last week, with equivalences."""
    monday = today - timedelta(days=today.weekday())
    rows = daily[(daily["school_id"] == school_id) & (daily["fuel"] == "electricity")]
    this = _sum(_window(rows, monday, today), "kwh")
    last = _sum(_window(rows, monday - timedelta(days=7), today - timedelta(days=7)), "kwh")
    co2 = _sum(_window(rows, monday, today), "co2e_kg")
    return {
        "week_start": monday.isoformat(), "today": today.isoformat(),
        "kwh_this_week": this, "kwh_last_week": last, "change": _change(this, last),
        "tv_hours": this / TV_KWH_PER_HOUR if this is not None else None,
        "phone_charges": this / PHONE_CHARGE_KWH if this is not None else None,
        "car_km": co2 / CAR_KG_CO2_PER_KM if co2 is not None else None,
    }


def traffic_light(co2_ppm: float | None) -> str:
    """The pupil view's colour for a classroom's CO₂ now: green < 1,000 ≤ yellow < 1,500 ≤ red; grey unknown."""
    if co2_ppm is None or np.isnan(co2_ppm):
        return "grey"
    return "green" if co2_ppm < 1000 else "yellow" if co2_ppm < 1500 else "red"


def _num(value) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value) else float(value)
