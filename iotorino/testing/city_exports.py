"""A published tree of the city's datasets from known synthetic hours, for the city pages' tests and benchmark.

`write_city(out, units, schools, last, ...)` writes, with the exports' own
writers (`iotorino.export.parquet`) and column specs, day partitions of
`air_quality_index_hourly`, `noise_hourly`, `weather_hourly`,
`classroom_environment_hourly`, `school_outdoor_hourly` (the last `hourly_days`
days), `air_quality_daily`, `noise_daily` (1 January to `last`) and
`air_quality_indicators` (the last `indicator_days` days). Values follow the
formulas below, so a test can read the files back and recompute what a page shows:

- traffic(h) = 1 + 0.8·e^(−(h−8)²/4) + 0.6·e^(−(h−18)²/4) at local hour h; a unit
  whose position k in `units` has k % 50 == 7 is *odd*: 1 + 1.2·e^(−(h−2)²/4);
- NO₂ = (15 + district + k % 5)·traffic·(0.7 on Saturday and Sunday); PM10 =
  (20 + district/2)·(0.6 + 0.4·traffic); PM2.5 = 0.6·PM10; O₃ = 50 + 2h (µg/m³);
- an hour is absent when (hours since the epoch + k) % 19 == 0 and published invalid
  (empty value, coverage 0.5) when it is % 23 == 0; noise LAeq = 50 + 8·traffic +
  k % 4 dB with completeness 0.5 when % 29 == 0;
- PM10 daily mean = 35 + 25·sin(2π·(day of year + k)/40); the day is invalid (12 of 18
  hours) when (day of year + k) % 13 == 0 and absent when % 31 == 0;
- schools: outdoor temperature = 10 + 6·sin(2π(h−14)/24) + jitter, outdoor CO₂ =
  420 + 60·traffic + jitter; the classrooms' temperature follows the outdoor one three
  hours later, and their CO₂ follows outdoor CO₂ at schools whose position % 4 == 0 and
  occupancy (+800 ppm in school hours on weekdays) elsewhere.

Noise daily levels, indicator rows and the index columns are filled from these
values with the project's own indicator functions (they are inputs of the pages, not
what the tests check).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from iotorino.core import catalogue
from iotorino.export import parquet
from iotorino.export import air_quality as aq
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.indicators import QUALITY_LABEL, air, eaqi, limits

ROME = ZoneInfo("Europe/Rome")
HOUR_NS = 3_600_000_000_000
POLLUTANTS = ("pm25", "pm10", "no2", "o3")


def traffic(hour: int, odd: bool = False) -> float:
    """The daily cycle of traffic at local `hour` (an odd unit peaks at night)."""
    if odd:
        return 1 + 1.2 * math.exp(-((hour - 2) ** 2) / 4)
    return 1 + 0.8 * math.exp(-((hour - 8) ** 2) / 4) + 0.6 * math.exp(-((hour - 18) ** 2) / 4)


def hours_of(day: date) -> list[tuple[int, datetime]]:
    """(UTC start ns, local start) of every hour of local `day` (23, 24 or 25)."""
    start = datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(timezone.utc)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=ROME).astimezone(timezone.utc)
    out, t = [], start
    while t < end:
        out.append((int(t.timestamp()) * 1_000_000_000, t.astimezone(ROME)))
        t += timedelta(hours=1)
    return out


def air_values(k: int, district: int, local: datetime) -> dict[str, float]:
    """The four pollutants of unit `k` at a local hour (before validity)."""
    t = traffic(local.hour, k % 50 == 7)
    weekend = 0.7 if local.weekday() >= 5 else 1.0
    pm10 = (20 + district / 2) * (0.6 + 0.4 * t)
    return {"no2": (15 + district + k % 5) * t * weekend, "pm10": pm10, "pm25": 0.6 * pm10, "o3": 50.0 + 2 * local.hour}


def hour_state(start_ns: int, k: int, missing: int = 19, invalid: int = 23) -> str:
    """'absent', 'invalid' or 'valid' for unit `k`'s hour starting at `start_ns`."""
    n = start_ns // HOUR_NS + k
    if n % missing == 0:
        return "absent"
    return "invalid" if n % invalid == 0 else "valid"


def laeq(k: int, local: datetime) -> float:
    """The hour's LAeq of unit `k` (dB)."""
    return 50 + 8 * traffic(local.hour, k % 50 == 7) + k % 4


def pm10_day(k: int, day: date) -> tuple[str, float]:
    """('absent' | 'invalid' | 'valid', daily mean) of unit `k`'s PM10 on `day`."""
    n = day.timetuple().tm_yday + k
    mean = 35 + 25 * math.sin(2 * math.pi * n / 40)
    if n % 31 == 0:
        return "absent", mean
    return ("invalid" if n % 13 == 0 else "valid"), mean


def jitter(start_ns: int, k: int) -> float:
    """A repeatable pseudo-random number in [0, 1) for an hour and a site."""
    return ((start_ns // HOUR_NS) * 7919 + k * 104729) % 1000 / 1000


def outdoor(start_ns: int, k: int, local: datetime) -> tuple[float, float]:
    """(temperature °C, CO₂ ppm) at school `k`'s outdoor station."""
    temperature = 10 + 6 * math.sin(2 * math.pi * (local.hour - 14) / 24) + 3 * jitter(start_ns, k)
    return temperature, 420 + 60 * traffic(local.hour) + 40 * jitter(start_ns, k + 1)


def _hourly_columns(measurement: str, tags: dict[str, str]) -> list[Column]:
    spec = catalogue.default().measurement(measurement)
    columns = [tag_column(spec, t, c) for t, c in tags.items()] + HOUR_COLUMNS
    if "district" in tags:
        import pyarrow as pa
        from dataclasses import replace
        columns = [replace(c, type=pa.int8()) if c.name == "district" else c for c in columns]
    for f in spec.fields.values():
        if f.kind == "gauge":
            columns += stat_columns(f)
    return columns + [COMPLETENESS]


def _write(out: Path, dataset: str, columns: Sequence[Column], rows: list[dict], day: date) -> None:
    data = {c.name: [r.get(c.name) for r in rows] for c in columns}
    parquet.write_partition(parquet.build_table(columns, data), out, dataset, day)


def _label(local: datetime) -> str:
    return local.isoformat()


def write_hourly_day(out: Path, day: date, units, schools) -> None:
    """The hourly datasets of local `day` for `units` and `schools`."""
    rules = limits.default()
    index_cols = aq.index_columns()
    noise_cols = _hourly_columns("noise", {"unit": "unit_id", "district": "district"})
    weather_cols = _hourly_columns("weather", {"unit": "unit_id", "district": "district"})
    room_cols = _hourly_columns("indoor_climate", {"school": "school_id", "room": "room_id"})
    station_cols = _hourly_columns("outdoor_climate", {"school": "school_id"})
    index_rows, noise_rows, weather_rows, room_rows, station_rows = [], [], [], [], []
    hours = hours_of(day)
    for k, u in enumerate(units):
        profile = u.profile
        for start, local in hours:
            base = {"unit_id": u.id, "district": u.district, "date_observed_from": start,
                    "date_observed_to": start + HOUR_NS, "local_time_from": _label(local)}
            state = hour_state(start, k)
            if profile != "street-noise" and state != "absent":
                values = air_values(k, u.district, local)
                valid = {p: (values[p] if state == "valid" else None) for p in POLLUTANTS}
                hour = eaqi.index_hour(rules.eaqi, valid)
                band = rules.eaqi.bands[hour.level - 1] if hour.level else None
                row = dict(base, eaqi_level=hour.level, eaqi_pollutant=hour.pollutant,
                           eaqi_band_it=band.name_it if band else None, eaqi_band_en=band.name_en if band else None,
                           eaqi_version=rules.eaqi.version, quality=QUALITY_LABEL)
                for p in POLLUTANTS:
                    row[f"{p}_hourly"] = valid[p]
                    row[f"{p}_coverage"] = 1.0 if state == "valid" else 0.5
                index_rows.append(row)
            if profile != "street-air" and state != "absent":
                level = laeq(k, local)
                thin = (start // HOUR_NS + k) % 29 == 0
                noise_rows.append(dict(base, laeq_mean=level, laeq_min=level - 6, laeq_max=level + 6,
                                       laeq_count=30 if thin else 60, completeness=0.5 if thin else 1.0))
            temperature, _ = outdoor(start, k % 40, local)
            weather_rows.append(dict(base, temperature_mean=temperature + 1, temperature_count=12, completeness=1.0))
    for k, s in enumerate(schools):
        for start, local in hours:
            base = {"school_id": s.id, "date_observed_from": start, "date_observed_to": start + HOUR_NS,
                    "local_time_from": _label(local)}
            temperature, co2 = outdoor(start, k, local)
            station_rows.append(dict(base, temperature_mean=temperature, co2_mean=co2, co2_count=6, completeness=1.0))
            before = start - 3 * HOUR_NS
            earlier, _ = outdoor(before, k, datetime.fromtimestamp(before / 1e9, timezone.utc).astimezone(ROME))
            occupied = local.weekday() < 5 and 8 <= local.hour < 16
            for r, room in enumerate(s.rooms):
                inside_co2 = co2 + 50 + 10 * r if k % 4 == 0 else 450 + (800 if occupied else 0) + 100 * jitter(start, k + r)
                room_rows.append(dict(base, room_id=room.id, temperature_mean=19 + 0.3 * earlier + 0.1 * r,
                                      co2_mean=inside_co2, co2_count=12, completeness=1.0))
    for dataset, columns, rows in (("air_quality_index_hourly", index_cols, index_rows), ("noise_hourly", noise_cols, noise_rows),
                                   ("weather_hourly", weather_cols, weather_rows),
                                   ("classroom_environment_hourly", room_cols, room_rows),
                                   ("school_outdoor_hourly", station_cols, station_rows)):
        if rows:
            _write(out, dataset, columns, rows, day)


def write_daily_day(out: Path, day: date, units, with_indicators: bool, since: date | None = None) -> None:
    """`air_quality_daily` (PM10), `noise_daily` and, when asked, `air_quality_indicators` of local `day`
    (counting the daily values published since `since`, default 1 January)."""
    rules = limits.default()
    n_hours = len(hours_of(day))
    need = air.required_hours(n_hours, rules.validity)
    daily, noise_rows, indicators = [], [], []
    first = date(day.year, 1, 1)
    for k, u in enumerate(units):
        if u.profile != "street-noise":
            state, mean = pm10_day(k, day)
            if state != "absent":
                valid = state == "valid"
                daily.append({"unit_id": u.id, "district": u.district, "local_date": day, "pollutant": "pm10",
                              "hours_in_day": n_hours, "valid_hours": n_hours if valid else 12, "required_hours": need,
                              "capture": 1.0 if valid else 12 / n_hours, "valid": valid,
                              "daily_mean": mean if valid else None, "max_hourly": mean * 1.5, "unit": "ug/m3",
                              "quality": QUALITY_LABEL})
            if with_indicators:
                indicators += _indicator_rows(u, k, day, first, since or first)
        if u.profile != "street-air":
            levels = {"l_day": 62 + k % 4, "l_evening": 58 + k % 4, "l_night": 52 + k % 4, "dpcm_day": 61 + k % 4,
                      "dpcm_night": 52 + k % 4}
            row = {"unit_id": u.id, "district": u.district, "local_date": day, "quality": QUALITY_LABEL}
            for name, level in levels.items():
                thin = (day.toordinal() + k) % 11 == 0 and name == "l_night"
                row[name] = None if thin else float(level) + (day.toordinal() % 3) * 0.5
                row[f"{name}_coverage"] = 0.5 if thin else 1.0
            row["l_den"] = None if row["l_night"] is None else \
                10 * math.log10((14 * 10 ** (row["l_day"] / 10) + 2 * 10 ** ((row["l_evening"] + 5) / 10)
                                 + 8 * 10 ** ((row["l_night"] + 10) / 10)) / 24)
            noise_rows.append(row)
    _write(out, "air_quality_daily", aq.DAILY_COLUMNS, daily, day)
    _write(out, "noise_daily", aq.noise_columns(), noise_rows, day)
    if with_indicators:
        _write(out, "air_quality_indicators", aq.INDICATOR_COLUMNS, indicators, day)


def _indicator_rows(u, k: int, day: date, first: date, since: date) -> list[dict]:
    """The year-to-date rows of a unit: PM10 daily exceedances counted from `pm10_day` (days from `since`),
    the rest from the formulas."""
    rules = limits.default()
    days = [first + timedelta(days=i) for i in range((day - first).days + 1)]
    states = [pm10_day(k, d) if d >= since else ("absent", 0.0) for d in days]
    valid_means = [m for s, m in states if s == "valid"]
    rows = []
    for regime in rules.regimes:
        for limit in regime.limits:
            if limit.pollutant not in ("pm10", "no2", "pm25"):
                continue
            periods = len(days) if limit.averaging == "day" else len(days) * 24
            valid = len(valid_means) if limit.averaging == "day" else int(periods * 0.9)
            count = sum(1 for m in valid_means if air.exceeds(m, limit.value)) if limit.id == "pm10_daily" else (k % 3)
            annual = limit.averaging == "year"
            rows.append({
                "unit_id": u.id, "district": u.district, "local_date": day, "regime": regime.id,
                "regime_applies": regime.applies_to(day.year), "limit_id": limit.id, "pollutant": limit.pollutant,
                "averaging": limit.averaging, "limit_value": float(limit.value), "unit": "ug/m3",
                "allowed_exceedances": limit.allowed, "periods_elapsed": min(periods, 32767),
                "periods_valid": min(valid, 32767), "capture": valid / periods, "capture_sufficient": valid / periods >= 0.9,
                "exceedances_ytd": None if annual else count,
                "remaining_allowed": None if annual else max(0, (limit.allowed or 0) - count),
                "limit_broken": None if annual else count > (limit.allowed or 0),
                "projected_exceedances": None if annual else count * (365 / len(days)),
                "projected_broken": None if annual else count * (365 / len(days)) > (limit.allowed or 0) + 0.5,
                "percentile": limit.percentile,
                "percentile_value": air.nearest_rank(valid_means, limit.percentile) if limit.id.startswith("pm10_d") else None,
                "annual_mean_ytd": (sum(valid_means) / len(valid_means)) if annual and valid_means else None,
                "citation": limit.citation, "quality": QUALITY_LABEL,
            })
    return rows


def write_city(out: Path, units, schools, last: date, hourly_days: int = 28, daily_from: date | None = None,
               indicator_days: int = 1) -> None:
    """The city's published tree up to local day `last` (see the module docstring)."""
    for i in range(hourly_days):
        write_hourly_day(out, last - timedelta(days=hourly_days - 1 - i), units, schools)
    since = day = daily_from or date(last.year, 1, 1)
    while day <= last:
        write_daily_day(out, day, units, with_indicators=(last - day).days < indicator_days, since=since)
        day += timedelta(days=1)
