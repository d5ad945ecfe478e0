"""`/citta`: decision support for the City Data team, over the street units of the inventory.

- `/citta`: every unit on a map coloured by its European Air Quality Index of the
  latest complete hour, read live from the store (the published
  `air_quality_index_hourly` when the store cannot be read, said so), the count per
  band, the units by district; the active city alerts have their own spot;
- `/citta/unita/{unit}`: the year so far against the limit values in force and those
  of 2030, the exceedance calendar of PM10, and noise (L_day .. L_den, DPCM);
- `/citta/circoscrizioni[/{n}]`: hour-of-day profiles per district on weekdays and
  weekends, and the units most unlike their district (`iotorino.indicators.correlate`);
- `/citta/scuole[/{school}]`: indoor CO₂ and temperature against the school's outdoor
  station and the nearest street unit: correlation, lag and what it means.

Every figure is indicative (low-cost sensors, not reference stations); definitions in
docs/indicators.md. The JSON twin of each page holds every number it shows.

The app's lifespan warms these pages' caches in a background thread (`start_warming`);
`/citta` and unit pages are built once per version of the data they are read from, and
their HTML rendered once per version, language and path (`Page.cache_key`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from starlette.requests import Request

from iotorino.core import inventory as inventory_mod
from iotorino.indicators import QUALITY_LABEL, air, correlate, eaqi, limits, noise
from iotorino.web.pages import NotFound, Page
from iotorino.web.sections import sites
from iotorino.web.sections.city_data import (CLASSROOMS, DAILY, INDEX_HOURLY, INDICATORS, NOISE_DAILY, NOISE_HOURLY,
                                             SCHOOL_OUTDOOR, WEATHER, CityData)

log = logging.getLogger(__name__)

ROME = ZoneInfo("Europe/Rome")
HOUR_NS = 3_600_000_000_000
EAQI_POLLUTANTS = ("pm25", "pm10", "no2", "o3")  # what the street units measure of the index's five
NOISE_MIN_COMPLETENESS = 0.75  # an hour of noise counts in a profile with 75 % of its readings
NOISE_CHART_DAYS = 90
SCHOOL_CHART_HOURS = 7 * 24
# The quantities of the district profiles: (dataset, column, averaged by energy, unit).
PROFILES = {
    "no2": (INDEX_HOURLY, "no2_hourly", False, "µg/m³"),
    "pm10": (INDEX_HOURLY, "pm10_hourly", False, "µg/m³"),
    "pm25": (INDEX_HOURLY, "pm25_hourly", False, "µg/m³"),
    "noise": (NOISE_HOURLY, "laeq_mean", True, "dB(A)"),
}
NOISE_COLUMNS = ("l_day", "l_evening", "l_night", "l_den", "dpcm_day", "dpcm_night")


_STATE_LOCK = threading.Lock()


def data_of(state) -> CityData:
    """The app's one `CityData` (made on first use; shared by requests and the warm-up)."""
    with _STATE_LOCK:
        if not hasattr(state, "city_data"):
            state.city_data = CityData(state.settings.exports_dir)
        return state.city_data


def _data(request: Request) -> CityData:
    return data_of(request.app.state)


def warm(state) -> None:
    """Compute what the city pages read (frames, splits, profiles, schools, every unit's view model) once, so
    that no visitor waits for the first read of the year; pages asked meanwhile wait for the same computation."""
    started = time.perf_counter()
    data = data_of(state)
    inventory = state.settings.inventory()
    _index_model(data, inventory, current_index_of(state))
    for u in sorted(inventory.street_units):
        _unit_model(data, inventory.street_units[u])
    _profiles_of(data, inventory)
    _schools_of(data, inventory)
    log.info("city pages warmed in %.1f s", time.perf_counter() - started)


def start_warming(state) -> threading.Thread:
    """`warm(state)` in a daemon thread (started by the app's lifespan); a failure is logged, pages compute on demand."""
    def run():
        try:
            warm(state)
        except Exception:  # noqa: BLE001 - the pages compute what they need themselves
            log.exception("city pages: warming the caches failed; pages compute on demand")

    thread = threading.Thread(target=run, name="city-warm-up", daemon=True)
    state.city_warming = thread
    thread.start()
    return thread


def _plain(value: Any) -> Any:
    """A JSON-able scalar: NaN and pandas' missing values are None, numpy numbers Python numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _bands() -> list[dict]:
    return [{"level": b.level, "name_it": b.name_it, "name_en": b.name_en, "colour": b.colour}
            for b in limits.default().eaqi.bands]


# --- /citta ---------------------------------------------------------------------------------


def index(request: Request) -> Page:
    """Every street unit on a map by its current index band, the count per band, units by district and profile."""
    now = current_index(request)
    data, key = _index_model(_data(request), request.app.state.settings.inventory(), now)
    return Page("citta/index.html", data, "citta.title", cache_key=key)


def _index_model(city: CityData, inventory, now: dict) -> tuple[dict, tuple]:
    """The map page's data for the index `now`, and its version; built once per version of `now`."""
    key = (now["source"], now["store"], now["hour_from"], id(inventory),
           tuple(sorted((u, v["level"], v["pollutant"], tuple(v["values"].values())) for u, v in now["units"].items())))
    return city.derived("index_model", key, lambda: _build_index(inventory, now)), key


def _build_index(inventory, now: dict) -> dict:
    units = sites.street_units(inventory)
    per_district = Counter(u["district"] for u in units)
    profiles = Counter(u["profile"] for u in units)
    levels = Counter(now["units"].get(u["id"], {}).get("level") for u in units)
    bands = _bands()
    for band in bands:
        band["units"] = levels.get(band["level"], 0)
    by_level = {b["level"]: b for b in bands}
    features = []
    for u in units:
        level = now["units"].get(u["id"], {}).get("level")
        band = by_level.get(level)
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [u["lon"], u["lat"]]},
                         "properties": {"id": u["id"], "label": u["id"], "level": level,
                                        "colour": band["colour"] if band else None,
                                        "band_it": band["name_it"] if band else None,
                                        "band_en": band["name_en"] if band else None}})
    return {
        "quality": QUALITY_LABEL,
        "index": {k: v for k, v in now.items() if k != "units"},
        "bands": bands,
        "no_data": levels.get(None, 0),
        "units": [dict(u, eaqi=now["units"].get(u["id"])) for u in units],
        "districts": [{"district": d, "units": per_district[d]} for d in sorted(per_district)],
        "profiles": [{"profile": p, "units": n} for p, n in sorted(profiles.items())],
        "map": {"type": "FeatureCollection", "features": features},
    }


def current_index(request: Request, now_ns: int | None = None) -> dict:
    """Each unit's index of the latest complete hour: from the store, else the newest published hour.

    Returns {source: store | published | none, store: absent | unreachable | read, hour_from, hour_to,
    hour_local, version, units: {unit: {level, pollutant, values}}}.
    """
    return current_index_of(request.app.state, now_ns)


def current_index_of(state, now_ns: int | None = None) -> dict:
    """`current_index` for the app's `state`."""
    settings = state.settings
    store_state = "absent"
    if settings.store is not None:
        try:
            return _live_index(settings.store, settings.inventory(), now_ns or time.time_ns())
        except Exception as exc:  # noqa: BLE001 - a store that is down: the published hour, said so on the page
            log.warning("city map: the store cannot be read (%s); showing the newest published hour", exc)
            store_state = "unreachable"
    return _published_index(data_of(state), store_state)


def _hour_fields(start_ns: int) -> dict:
    start = datetime.fromtimestamp(start_ns / 1e9, timezone.utc)
    return {"hour_from": start.isoformat(), "hour_to": (start + timedelta(hours=1)).isoformat(),
            "hour_local": start.astimezone(ROME).strftime("%d/%m/%Y %H:%M"),
            "version": limits.default().eaqi.version}


def _live_index(store, inventory, now_ns: int) -> dict:
    """The index of the last complete hour from the store's count and mean per unit (validity: 75 % of the hour)."""
    rules = limits.default()
    end = now_ns - now_ns % HOUR_NS
    start = end - HOUR_NS
    fields = ", ".join(f'count("{p}") AS "{p}_count", mean("{p}") AS "{p}_mean"' for p in EAQI_POLLUTANTS)
    series = store.query(f'SELECT {fields} FROM "air_quality" WHERE time >= {start} AND time < {end} GROUP BY "unit"')
    interval = inventory_mod.reporting_intervals(inventory, "street", "air_quality")
    out = {}
    for s in series:
        unit = (s.get("tags") or {}).get("unit")
        if not unit or not s.get("values"):
            continue
        row = dict(zip(s["columns"], s["values"][0]))
        seconds = interval({"unit": unit})
        values = {p: air.hour_value(int(row.get(f"{p}_count") or 0), row.get(f"{p}_mean"), seconds, rules.validity).value
                  for p in EAQI_POLLUTANTS}
        hour = eaqi.index_hour(rules.eaqi, values)
        out[unit] = {"level": hour.level, "pollutant": hour.pollutant, "values": values}
    return {"source": "store", "store": "read", **_hour_fields(start), "units": out}


def _published_index(data: CityData, store_state: str) -> dict:
    """The index of the newest hour in the newest published `air_quality_index_hourly` partition."""
    def compute():
        frame = data.newest(INDEX_HOURLY)
        if not len(frame):
            return None
        starts = pd.to_datetime(frame["date_observed_from"], utc=True)
        last = starts.max()
        rows = frame[starts == last]
        units = {}
        for row in rows.itertuples(index=False):
            level = _plain(row.eaqi_level)
            units[row.unit_id] = {"level": int(level) if level is not None else None,
                                  "pollutant": _plain(row.eaqi_pollutant),
                                  "values": {p: _plain(getattr(row, f"{p}_hourly")) for p in EAQI_POLLUTANTS}}
        return {"start_ns": int(last.value), "units": units}

    found = data.derived("published_index", data.key(INDEX_HOURLY, "newest"), compute)
    if found is None:
        return {"source": "none", "store": store_state, "hour_from": None, "hour_to": None, "hour_local": None,
                "version": limits.default().eaqi.version, "units": {}}
    return {"source": "published", "store": store_state, **_hour_fields(found["start_ns"]), "units": found["units"]}


# --- /citta/unita/{unit} --------------------------------------------------------------------


def _unit(request: Request):
    unit_id = request.path_params["unit"]
    unit = request.app.state.settings.inventory().street_units.get(unit_id)
    if unit is None:
        raise NotFound("citta.unknown_unit", unit=unit_id)
    return unit


def unit(request: Request) -> Page:
    """One unit: the year so far by the law, the PM10 calendar, noise levels and their chart."""
    u = _unit(request)
    data, key = _unit_model(_data(request), u)
    return Page("citta/unit.html", data, "citta.unit_title", {"unit": u.id}, cache_key=key)


def _unit_model(data: CityData, u) -> tuple[dict, tuple]:
    """A unit page's data and its version (the partitions it is read from), built once per version."""
    key = (data.key(INDICATORS, "newest"), data.key(DAILY, "year"), data.key(NOISE_DAILY, "year"))
    return data.derived(f"unit_model:{u.id}", key, lambda: _build_unit(data, u)), key


def _build_unit(data: CityData, u) -> dict:
    rows = data.by_site(INDICATORS, "newest", "unit_id").get(u.id)
    as_of = data.last_day(INDICATORS)
    regimes = _regimes(rows, as_of)
    daily = data.by_site(DAILY, "year", "unit_id").get(u.id)
    year = as_of.year if as_of else (data.last_day(DAILY) or date.today()).year
    noise_rows = data.by_site(NOISE_DAILY, "year", "unit_id").get(u.id)
    return {
        "unit": {"id": u.id, "district": u.district, "profile": u.profile, "installed": u.installed.isoformat(),
                 "lon": u.lon, "lat": u.lat},
        "quality": QUALITY_LABEL,
        "as_of": as_of.isoformat() if as_of else None,
        "days_left": (date(as_of.year, 12, 31) - as_of).days if as_of else None,
        "regimes": regimes,
        "calendar": _calendar(daily, year, data.last_day(DAILY)),
        "noise": _noise(noise_rows, data.last_day(NOISE_DAILY)),
    }


INDICATOR_FIELDS = ("limit_id", "pollutant", "averaging", "limit_value", "unit", "allowed_exceedances",
                    "periods_elapsed", "periods_valid", "capture", "capture_sufficient", "exceedances_ytd",
                    "remaining_allowed", "limit_broken", "projected_exceedances", "projected_broken", "percentile",
                    "percentile_value", "annual_mean_ytd", "citation")


COUNT_FIELDS = ("allowed_exceedances", "periods_elapsed", "periods_valid", "exceedances_ytd", "remaining_allowed")


def _regimes(rows: pd.DataFrame | None, as_of: date | None) -> list[dict]:
    """The published year-to-date rows of a unit by regime: the one in force first, then the 2030 one."""
    rules = limits.default()
    out = []
    published = {(r["regime"], r["limit_id"]): r for r in rows.to_dict("records")} if rows is not None else {}
    for regime in sorted(rules.regimes, key=lambda r: (not r.applies_to(as_of.year if as_of else date.today().year), r.applies_from)):
        entries = []
        for limit in regime.limits:
            match = published.get((regime.id, limit.id))
            entry = dict.fromkeys(INDICATOR_FIELDS)
            entry.update(limit_id=limit.id, pollutant=limit.pollutant, averaging=limit.averaging,
                         limit_value=float(limit.value), unit=limit.unit, allowed_exceedances=limit.allowed,
                         percentile=limit.percentile, citation=limit.citation)
            if match is not None:
                entry.update({f: _plain(match[f]) for f in INDICATOR_FIELDS if f in match})
                for f in COUNT_FIELDS:  # counts stay integers (pandas makes an integer column with gaps float)
                    if entry[f] is not None:
                        entry[f] = int(entry[f])
            entry["status"] = limit_state(entry)
            entries.append(entry)
        out.append({"id": regime.id, "title_it": regime.title_it, "title_en": regime.title_en,
                    "applies": regime.applies_to(as_of.year) if as_of else None, "applies_from": regime.applies_from,
                    "limits": entries})
    return out


def limit_state(entry: dict) -> str:
    """Where a unit stands against one limit: broken, projected_broken, within (counted limits); above or within
    (annual means, compared at the limit's precision); no_value (nothing valid published)."""
    if entry.get("exceedances_ytd") is not None:
        if entry.get("limit_broken"):
            return "broken"
        return "projected_broken" if entry.get("projected_broken") else "within"
    if entry.get("annual_mean_ytd") is not None:
        return "above_annual" if air.exceeds(entry["annual_mean_ytd"], entry["limit_value"]) else "within"
    return "no_value"


def pm10_daily_limit(year: int) -> limits.Limit:
    """The PM10 daily limit value of the regime governing `year`."""
    for regime in limits.default().regimes:
        if regime.applies_to(year):
            for limit in regime.limits:
                if limit.id == "pm10_daily":
                    return limit
    raise LookupError(f"no regime sets a PM10 daily limit for {year}")


def _calendar(rows: pd.DataFrame | None, year: int, last_day: date | None) -> dict:
    """Each day of `year` for PM10: above (valid, exceeding the daily limit), below, invalid (too few valid hours),
    no data, or still to come; by month for the grid, with the counts."""
    limit = pm10_daily_limit(year)
    by_day: dict[date, tuple] = {}
    if rows is not None:
        pm10 = rows[rows["pollutant"] == "pm10"]
        for row in pm10.itertuples(index=False):
            by_day[row.local_date] = (bool(row.valid), _plain(row.daily_mean), int(row.valid_hours), int(row.required_hours))
    months, counts = [], Counter()
    day = date(year, 1, 1)
    while day.year == year:
        if day.day == 1:
            months.append({"month": day.month, "offset": day.weekday(), "days": []})
        found = by_day.get(day)
        if found is None:
            status, mean, hours, need = ("future" if last_day is None or day > last_day else "nodata"), None, None, None
        else:
            valid, mean, hours, need = found
            status = "invalid" if not valid or mean is None else ("above" if air.exceeds(mean, limit.value) else "below")
        counts[status] += 1
        months[-1]["days"].append({"date": day.isoformat(), "status": status, "mean": mean, "valid_hours": hours,
                                   "required_hours": need})
        day += timedelta(days=1)
    return {"year": year, "pollutant": "pm10", "limit_value": float(limit.value), "allowed": limit.allowed,
            "regime": limit.regime, "months": months,
            "counts": {s: counts.get(s, 0) for s in ("above", "below", "invalid", "nodata", "future")}}


def _noise(rows: pd.DataFrame | None, last_day: date | None) -> dict | None:
    """The unit's latest noise day, the year so far (energetic means of the valid days) and the chart's series."""
    if rows is None or not len(rows):
        return None
    rules = limits.default().noise
    rows = rows.sort_values("local_date")
    latest = rows.iloc[-1]
    first = date(latest["local_date"].year, 1, 1)
    elapsed = (latest["local_date"] - first).days + 1
    year = {}
    for name in NOISE_COLUMNS:
        if name == "l_den":
            continue
        valid = [float(v) for v in rows[name] if _plain(v) is not None]
        year[name] = {"level": noise.energetic_mean(valid), "valid_days": len(valid), "capture": len(valid) / elapsed}
    parts = [year[p]["level"] for p in ("l_day", "l_evening", "l_night")]
    year_lden = noise.lden(*parts, rules) if all(p is not None for p in parts) else None
    recent = rows[rows["local_date"] > latest["local_date"] - timedelta(days=NOISE_CHART_DAYS)]
    return {
        "latest": {"date": latest["local_date"].isoformat(),
                   **{n: _plain(latest[n]) for n in NOISE_COLUMNS},
                   **{f"{n}_coverage": _plain(latest[f"{n}_coverage"]) for n in NOISE_COLUMNS if n != "l_den"}},
        "year": year, "year_l_den": year_lden, "days_elapsed": elapsed,
        "chart": {"kind": "day", "x": [d.isoformat() for d in recent["local_date"]],
                  "series": [{"key": n, "y": [_plain(v) for v in recent[n]]} for n in ("l_den", "l_day", "l_night")]},
    }


# --- /citta/circoscrizioni ------------------------------------------------------------------


def _district_of(inventory) -> dict[str, int]:
    return {u.id: u.district for u in inventory.street_units.values()}


def _profiles(request: Request) -> dict:
    """District and unit profiles of every quantity over the recent published hours, kept until a partition changes."""
    return _profiles_of(_data(request), request.app.state.settings.inventory())


def _profiles_of(data: CityData, inventory) -> dict:
    """`_profiles` for `data` and `inventory`."""
    key = (data.key(INDEX_HOURLY, "recent"), data.key(NOISE_HOURLY, "recent"))
    return data.derived("profiles", key, lambda: compute_profiles(data, _district_of(inventory)))


def compute_profiles(data: CityData, district_of: dict[str, int]) -> dict:
    """Per quantity: district profiles, unit differences from the district median; and the period read."""
    out: dict[str, Any] = {"quantities": {}, "first": None, "last": None}
    days = []
    for quantity, (dataset, column, energetic, unit) in PROFILES.items():
        frame = data.recent(dataset)
        if len(frame) and dataset == NOISE_HOURLY:
            frame = frame[frame["completeness"] >= NOISE_MIN_COMPLETENESS]
        if not len(frame) or column not in frame:
            out["quantities"][quantity] = {"unit": unit, "energetic": energetic, "districts": {}, "differences": []}
            continue
        days += [frame["local_time_from"].min()[:10], frame["local_time_from"].max()[:10]]
        districts = correlate.district_profiles(frame, "unit_id", column, district_of, energetic)
        units = correlate.profiles(frame, "unit_id", column, energetic)
        medians = correlate.median_profiles(units, district_of)
        out["quantities"][quantity] = {
            "unit": unit, "energetic": energetic,
            "districts": {int(d): {"profile": _profile_dict(districts.loc[d]),
                                   "median": _profile_dict(medians.loc[d]) if d in medians.index else None,
                                   "means": _profile_means(districts.loc[d], energetic)}
                          for d in districts.index},
            "differences": [{"unit_id": x.site, "district": x.district, "rms": x.rms, "relative": x.relative,
                             "hours": x.hours} for x in correlate.differences(units, district_of)],
        }
    if days:
        out["first"], out["last"] = min(days), max(days)
    return out


def _profile_dict(row: pd.Series) -> dict[str, list]:
    return {t: [_plain(row[(t, h)]) for h in correlate.HOURS] for t in correlate.DAY_TYPES}


def _profile_means(row: pd.Series, energetic: bool) -> dict[str, float | None]:
    """The mean of a profile's 24 hours per day type (energetic for levels): a day's typical value."""
    out = {}
    for t in correlate.DAY_TYPES:
        values = [v for v in (_plain(row[(t, h)]) for h in correlate.HOURS) if v is not None]
        if not values:
            out[t] = None
        elif energetic:
            out[t] = noise.energetic_mean(values)
        else:
            out[t] = sum(values) / len(values)
    return out


TOP_UNITS = 5


def districts(request: Request) -> Page:
    """The 8 circoscrizioni: units, each quantity's typical weekday and weekend value, the unit most unlike each."""
    inventory = request.app.state.settings.inventory()
    prof = _profiles(request)
    per_district = Counter(u.district for u in inventory.street_units.values())
    rows = []
    for d in sorted(per_district):
        entry = {"district": d, "units": per_district[d], "quantities": {}}
        for q, found in prof["quantities"].items():
            district = found["districts"].get(d)
            unlike = next((x for x in found["differences"] if x["district"] == d and x["rms"] is not None), None)
            entry["quantities"][q] = {"means": district["means"] if district else None, "most_unlike": unlike}
        rows.append(entry)
    return Page("citta/districts.html", {"quality": QUALITY_LABEL, "first": prof["first"], "last": prof["last"],
                                         "units": {q: v["unit"] for q, v in prof["quantities"].items()},
                                         "districts": rows}, "citta.districts_title")


def district(request: Request) -> Page:
    """One circoscrizione: its hour-of-day profiles on weekdays and weekends, and the units most unlike it."""
    inventory = request.app.state.settings.inventory()
    text = request.path_params["n"]
    numbers = sorted({u.district for u in inventory.street_units.values()})
    if not text.isdigit() or int(text) not in numbers:
        raise NotFound("citta.unknown_district", district=text, accepted=", ".join(map(str, numbers)))
    n = int(text)
    prof = _profiles(request)
    quantities = {}
    for q, found in prof["quantities"].items():
        d = found["districts"].get(n)
        diffs = [x for x in found["differences"] if x["district"] == n]
        quantities[q] = {"unit": found["unit"], "energetic": found["energetic"],
                         "profile": d["profile"] if d else None, "median": d["median"] if d else None,
                         "means": d["means"] if d else None,
                         "most_unlike": [x for x in diffs if x["rms"] is not None][:TOP_UNITS], "all_units": diffs}
    units = [u for u in sites.street_units(inventory) if u["district"] == n]
    return Page("citta/district.html", {"district": n, "quality": QUALITY_LABEL, "first": prof["first"],
                                        "last": prof["last"], "quantities": quantities, "units": units},
                "citta.district_title", {"n": n})


# --- /citta/scuole --------------------------------------------------------------------------

PAIRS = {  # pair: (indoor column, outdoor source, outdoor column)
    "co2_station": ("co2_mean", "station", "co2_mean"),
    "co2_unit_no2": ("co2_mean", "unit", "no2_hourly"),
    "temperature_station": ("temperature_mean", "station", "temperature_mean"),
    "temperature_unit": ("temperature_mean", "unit", "temperature_mean"),
}


def _air_units(inventory) -> list[tuple[str, float, float]]:
    """(id, lon, lat) of the street units measuring air quality (the ones with NO₂ to compare)."""
    return [(u.id, u.lon, u.lat) for u in inventory.street_units.values()
            if inventory.profiles[u.profile].interval_s("air_quality")]


SERIES = {  # name: (dataset, site column, value column, whose id: school or unit)
    "indoor:co2_mean": (CLASSROOMS, "school_id", "co2_mean", "school"),
    "indoor:temperature_mean": (CLASSROOMS, "school_id", "temperature_mean", "school"),
    "station:co2_mean": (SCHOOL_OUTDOOR, "school_id", "co2_mean", "school"),
    "station:temperature_mean": (SCHOOL_OUTDOOR, "school_id", "temperature_mean", "school"),
    "unit:no2_hourly": (INDEX_HOURLY, "unit_id", "no2_hourly", "unit"),
    "unit:temperature_mean": (WEATHER, "unit_id", "temperature_mean", "unit"),
}


def _school_series(splits: dict, school_id: str, unit_id: str | None) -> dict[str, pd.Series]:
    """The hourly series of a school (rooms averaged), its outdoor station and its nearest unit."""
    out = {}
    for name, (dataset, _, column, whose) in SERIES.items():
        frame = splits[dataset].get(school_id if whose == "school" else unit_id)
        out[name] = correlate.hourly_series(frame, column) if frame is not None and column in frame else pd.Series(dtype=float)
    return out


def _lagged_dict(result: correlate.Lagged) -> dict:
    return {"lag_h": result.lag_h, "r": result.r, "pairs": result.pairs, "r_at_0": result.r_at_0,
            "pairs_at_0": result.pairs_at_0, "reading": correlate.reading(result),
            "curve": [{"lag_h": k, "r": r, "pairs": n} for k, r, n in result.curve]}


def school_comparison(splits: dict, air_units: list, school) -> dict:
    """A school's four comparisons (indoor CO₂ and temperature against its station and its nearest unit);
    `splits`: each dataset's recent frame split by site, `air_units`: (id, lon, lat) of the units with NO₂."""
    found = correlate.nearest(school.lon, school.lat, air_units)
    unit_id, distance = found if found else (None, None)
    series = _school_series(splits, school.id, unit_id)
    pairs = {name: _lagged_dict(correlate.lagged_correlation(series[f"indoor:{inside}"], series[f"{source}:{outside}"]))
             for name, (inside, source, outside) in PAIRS.items()}
    return {"school_id": school.id, "name": school.name, "district": school.district,
            "nearest_unit": unit_id, "distance_m": distance, "pairs": pairs,
            "verdict": verdict(pairs), "series": series}


def verdict(pairs: dict) -> dict:
    """The plain-language reading: where indoor CO₂ comes from, and whether the rooms follow outdoor temperature."""
    co2 = pairs["co2_station"]["reading"]
    co2_verdict = {"follows": "outdoor", "partly": "mixed", "independent": "indoor"}.get(co2, "unknown")
    temperature = pairs["temperature_station"]
    if temperature["reading"] == "unknown":
        temperature = pairs["temperature_unit"]
    t_verdict = {"follows": "follows", "partly": "partly", "independent": "held"}.get(temperature["reading"], "unknown")
    return {"co2": co2_verdict, "temperature": t_verdict, "temperature_lag_h": temperature["lag_h"]}


def _schools(request: Request) -> list[dict]:
    return _schools_of(_data(request), request.app.state.settings.inventory())


def _schools_of(data: CityData, inventory) -> list[dict]:
    """Every school's comparisons, kept until a partition of the four datasets changes."""
    key = tuple(data.key(d, "recent") for d in (CLASSROOMS, SCHOOL_OUTDOOR, INDEX_HOURLY, WEATHER))

    def compute():
        splits = {dataset: data.by_site(dataset, "recent", site) for dataset, site, _, _ in SERIES.values()}
        units = _air_units(inventory)
        return [school_comparison(splits, units, s) for s in sorted(inventory.schools.values(), key=lambda s: s.id)]

    return data.derived("schools", key, compute)


def schools(request: Request) -> Page:
    """Per school: indoor CO₂ and temperature against the outdoor station and the nearest unit, with a reading."""
    data = _data(request)
    rows = [{k: v for k, v in r.items() if k != "series"} for r in _schools(request)]
    for r in rows:
        r["pairs"] = {n: {k: v for k, v in p.items() if k != "curve"} for n, p in r["pairs"].items()}
    return Page("citta/schools.html", {"quality": QUALITY_LABEL, "last": _iso(data.last_day(CLASSROOMS)),
                                       "max_lag_h": correlate.MAX_LAG_H, "min_pairs": correlate.MIN_PAIRS,
                                       "schools": rows}, "citta.schools_title")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def school(request: Request) -> Page:
    """One school: the four comparisons with r at every lag, and the last week's hourly series in two charts."""
    school_id = request.path_params["school"]
    found = next((r for r in _schools(request) if r["school_id"] == school_id), None)
    if found is None:
        raise NotFound("citta.unknown_school", school=school_id)
    series = found["series"]
    ends = [s.index.max() for s in series.values() if len(s)]
    charts = {}
    if ends:
        end = max(ends)
        hours = list(range(int(end) - (SCHOOL_CHART_HOURS - 1) * HOUR_NS, int(end) + 1, HOUR_NS))
        def values(name):
            s = series[name]
            return [_plain(s.get(t)) for t in hours]
        x = [t // 1_000_000_000 for t in hours]
        charts["co2"] = {"kind": "time", "x": x, "series": [
            {"key": "indoor_co2", "y": values("indoor:co2_mean")}, {"key": "station_co2", "y": values("station:co2_mean")}]}
        charts["no2"] = {"kind": "time", "x": x, "series": [{"key": "unit_no2", "y": values("unit:no2_hourly")}]}
        charts["temperature"] = {"kind": "time", "x": x, "series": [
            {"key": "indoor_temperature", "y": values("indoor:temperature_mean")},
            {"key": "station_temperature", "y": values("station:temperature_mean")},
            {"key": "unit_temperature", "y": values("unit:temperature_mean")}]}
        # A series without a value is left out, and a chart without any series (no data published) too.
        for name, chart in list(charts.items()):
            chart["series"] = [s for s in chart["series"] if any(v is not None for v in s["y"])]
            if not chart["series"]:
                del charts[name]
    return Page("citta/school.html", {"quality": QUALITY_LABEL, **{k: v for k, v in found.items() if k != "series"},
                                      "charts": charts}, "citta.school_title", {"name": found["name"]})
