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
- street temperature = 11 + 6·sin(2π(h−14)/24) + 3·jitter (weather_hourly);
- schools: outdoor temperature = 10 + 6·sin(2π(h−14)/24) + 3·jitter, outdoor CO₂ =
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

import numpy as np

from iotorino.core import catalogue
from iotorino.export import parquet
from iotorino.export import air_quality as aq
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.indicators import QUALITY_LABEL, air, limits

ROME = ZoneInfo("Europe/Rome")
HOUR_NS = 3_600_000_000_000
POLLUTANTS = ("pm25", "pm10", "no2", "o3")


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


def pm10_day(k: int, day: date) -> tuple[str, float]:
    """('absent' | 'invalid' | 'valid', daily mean) of unit `k`'s PM10 on `day`."""
    n = day.timetuple().tm_yday + k
    mean = 35 + 25 * math.sin(2 * math.pi * n / 40)
    if n % 31 == 0:
        return "absent", mean
    return ("invalid" if n % 13 == 0 else "valid"), mean


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


def _nullable(values: np.ndarray, keep: np.ndarray) -> list:
    """`values` as a list with None where `keep` is false (a published empty value)."""
    return [v if k else None for v, k in zip(values.tolist(), keep.tolist())]


def _traffic(hours: np.ndarray, odd: np.ndarray) -> np.ndarray:
    """`traffic` over a (site, hour) grid: `hours` local hours (H,), `odd` (U,)."""
    normal = 1 + 0.8 * np.exp(-((hours - 8.0) ** 2) / 4) + 0.6 * np.exp(-((hours - 18.0) ** 2) / 4)
    night = 1 + 1.2 * np.exp(-((hours - 2.0) ** 2) / 4)
    return np.where(odd[:, None], night[None, :], normal[None, :])


def _bands(values: dict[str, np.ndarray], rules) -> tuple[np.ndarray, np.ndarray]:
    """Per row the index level (0: none) and the position in `rules.eaqi.upper` of the pollutant setting it."""
    order = [p for p in rules.eaqi.upper if p in values]
    levels = np.stack([np.where(np.isnan(values[p]), 0,
                                np.searchsorted(np.asarray(rules.eaqi.upper[p]), np.nan_to_num(values[p]), side="left") + 1)
                       for p in order])
    return levels.max(axis=0), np.asarray(order, dtype=object)[levels.argmax(axis=0)]


def write_hourly_day(out: Path, day: date, units, schools) -> None:
    """The hourly datasets of local `day` for `units` and `schools` (vectorised: a year of them is a benchmark's input)."""
    rules = limits.default()
    hours = hours_of(day)
    starts = np.asarray([s for s, _ in hours], dtype=np.int64)
    local_hours = np.asarray([t.hour for _, t in hours], dtype=float)
    weekend = np.asarray([t.weekday() >= 5 for _, t in hours])
    labels = [_label(t) for _, t in hours]
    n_h = len(hours)
    k = np.arange(len(units))
    district = np.asarray([u.district for u in units], dtype=float)
    grid = starts[None, :] // HOUR_NS + k[:, None]
    absent, invalid = grid % 19 == 0, (grid % 23 == 0) & ~(grid % 19 == 0)
    t = _traffic(local_hours, k % 50 == 7)
    pm10 = (20 + district[:, None] / 2) * (0.6 + 0.4 * t)
    values = {"pm25": 0.6 * pm10, "pm10": pm10,
              "no2": (15 + district[:, None] + (k % 5)[:, None]) * t * np.where(weekend, 0.7, 1.0)[None, :],
              "o3": np.broadcast_to(50.0 + 2 * local_hours, t.shape)}
    valid_values = {p: np.where(invalid, np.nan, v) for p, v in values.items()}
    level, setter = _bands(valid_values, rules)

    def base(mask: np.ndarray) -> dict[str, list]:
        ui, hi = np.nonzero(mask)
        return {"unit_id": [units[i].id for i in ui], "district": [units[i].district for i in ui],
                "date_observed_from": starts[hi].tolist(), "date_observed_to": (starts[hi] + HOUR_NS).tolist(),
                "local_time_from": [labels[h] for h in hi]}, (ui, hi)

    air_units = np.asarray([u.profile != "street-noise" for u in units], dtype=bool)
    noise_units = np.asarray([u.profile != "street-air" for u in units], dtype=bool)
    data, (ui, hi) = base(air_units[:, None] & ~absent)
    ok = ~invalid[ui, hi]
    lv = level[ui, hi]
    names = {b.level: b for b in rules.eaqi.bands}
    data.update(eaqi_level=_nullable(lv, lv > 0), eaqi_pollutant=_nullable(setter[ui, hi], lv > 0),
                eaqi_band_it=[names[x].name_it if x else None for x in lv.tolist()],
                eaqi_band_en=[names[x].name_en if x else None for x in lv.tolist()],
                eaqi_version=[rules.eaqi.version] * len(ui), quality=[QUALITY_LABEL] * len(ui))
    for p in aq.POLLUTANTS:
        data[f"{p}_hourly"] = _nullable(values[p][ui, hi], ok) if p in values else [None] * len(ui)
        data[f"{p}_coverage"] = np.where(ok, 1.0, 0.5).tolist() if p in values else [None] * len(ui)
    _write_columns(out, "air_quality_index_hourly", aq.index_columns(), data, day)

    data, (ui, hi) = base(noise_units[:, None] & ~absent)
    level_db = 50 + 8 * t[ui, hi] + (k % 4)[ui]
    thin = grid[ui, hi] % 29 == 0
    data.update(laeq_mean=level_db.tolist(), laeq_min=(level_db - 6).tolist(), laeq_max=(level_db + 6).tolist(),
                laeq_count=np.where(thin, 30, 60).tolist(), completeness=np.where(thin, 0.5, 1.0).tolist())
    _write_columns(out, "noise_hourly", _hourly_columns("noise", {"unit": "unit_id", "district": "district"}), data, day)

    street_t = 11 + 6 * np.sin(2 * np.pi * (local_hours - 14) / 24)[None, :] + 3 * _jitter(starts, k % 40)
    data, (ui, hi) = base(np.ones((len(units), n_h), dtype=bool))
    data.update(temperature_mean=street_t[ui, hi].tolist(),
                temperature_count=[12] * len(ui), completeness=[1.0] * len(ui))
    _write_columns(out, "weather_hourly", _hourly_columns("weather", {"unit": "unit_id", "district": "district"}), data, day)
    if schools:
        _write_schools(out, day, schools, starts, local_hours, weekend, labels)


def _jitter(starts: np.ndarray, k: np.ndarray) -> np.ndarray:
    """`jitter` over a (site, hour) grid."""
    return (((starts[None, :] // HOUR_NS) * 7919 + k[:, None] * 104729) % 1000) / 1000


def _write_schools(out: Path, day: date, schools, starts, local_hours, weekend, labels) -> None:
    k = np.arange(len(schools))
    before = starts - 3 * HOUR_NS
    before_hours = np.asarray([datetime.fromtimestamp(b / 1e9, timezone.utc).astimezone(ROME).hour for b in before.tolist()],
                              dtype=float)
    temperature = 10 + 6 * np.sin(2 * np.pi * (local_hours - 14) / 24)[None, :] + 3 * _jitter(starts, k)
    earlier = 10 + 6 * np.sin(2 * np.pi * (before_hours - 14) / 24)[None, :] + 3 * _jitter(before, k)
    co2 = 420 + 60 * _traffic(local_hours, np.zeros(len(schools), dtype=bool)) + 40 * _jitter(starts, k + 1)
    occupied = (~weekend) & (local_hours >= 8) & (local_hours < 16)
    station = {"school_id": [], "date_observed_from": [], "date_observed_to": [], "local_time_from": [],
               "temperature_mean": [], "co2_mean": [], "co2_count": [], "completeness": []}
    rooms = {name: [] for name in (*station, "room_id")}
    for i, school in enumerate(schools):
        hour_base = {"school_id": [school.id] * len(starts), "date_observed_from": starts.tolist(),
                     "date_observed_to": (starts + HOUR_NS).tolist(), "local_time_from": labels}
        for name, values in hour_base.items():
            station[name] += values
        station["temperature_mean"] += temperature[i].tolist()
        station["co2_mean"] += co2[i].tolist()
        station["co2_count"] += [6] * len(starts)
        station["completeness"] += [1.0] * len(starts)
        for r, room in enumerate(school.rooms):
            for name, values in hour_base.items():
                rooms[name] += values
            rooms["room_id"] += [room.id] * len(starts)
            inside = co2[i] + 50 + 10 * r if i % 4 == 0 else \
                450 + np.where(occupied, 800, 0) + 100 * _jitter(starts, np.asarray([i + r]))[0]
            rooms["co2_mean"] += inside.tolist()
            rooms["temperature_mean"] += (19 + 0.3 * earlier[i] + 0.1 * r).tolist()
            rooms["co2_count"] += [12] * len(starts)
            rooms["completeness"] += [1.0] * len(starts)
    _write_columns(out, "school_outdoor_hourly", _hourly_columns("outdoor_climate", {"school": "school_id"}), station, day)
    _write_columns(out, "classroom_environment_hourly",
                   _hourly_columns("indoor_climate", {"school": "school_id", "room": "room_id"}), rooms, day)


def _write_columns(out: Path, dataset: str, columns: Sequence[Column], data: dict[str, list], day: date) -> None:
    n = len(next(iter(data.values())))
    full = {c.name: data.get(c.name, [None] * n) for c in columns}
    parquet.write_partition(parquet.build_table(columns, full), out, dataset, day)


def write_daily_day(out: Path, day: date, units, with_indicators: bool, since: date | None = None,
                    history: dict[str, list[float]] | None = None) -> None:
    """`air_quality_daily` (PM10), `noise_daily` and, when asked, `air_quality_indicators` of local `day`
    (counting the daily values published since `since`, default 1 January). `history`, kept by the caller across
    consecutive days, holds each unit's valid PM10 daily means so far (else they are recomputed)."""
    rules = limits.default()
    n_hours = len(hours_of(day))
    need = air.required_hours(n_hours, rules.validity)
    daily, noise_rows, indicators = [], [], []
    first = date(day.year, 1, 1)
    for k, u in enumerate(units):
        if u.profile != "street-noise":
            state, mean = pm10_day(k, day) if day >= (since or first) else ("absent", 0.0)
            if history is not None and state == "valid":
                history.setdefault(u.id, []).append(mean)
            if state != "absent":
                valid = state == "valid"
                daily.append({"unit_id": u.id, "district": u.district, "local_date": day, "pollutant": "pm10",
                              "hours_in_day": n_hours, "valid_hours": n_hours if valid else 12, "required_hours": need,
                              "capture": 1.0 if valid else 12 / n_hours, "valid": valid,
                              "daily_mean": mean if valid else None, "max_hourly": mean * 1.5, "unit": "ug/m3",
                              "quality": QUALITY_LABEL})
            if with_indicators:
                means = history.get(u.id, []) if history is not None else \
                    [m for d in _days(first, day) if d >= (since or first) for s, m in [pm10_day(k, d)] if s == "valid"]
                indicators += _indicator_rows(u, k, day, first, means)
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


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _indicator_rows(u, k: int, day: date, first: date, valid_means: list[float]) -> list[dict]:
    """The year-to-date rows of a unit: PM10 daily exceedances counted from its valid daily means so far,
    the rest from the formulas."""
    rules = limits.default()
    days = _days(first, day)
    means = np.asarray(valid_means, dtype=float)
    rows = []
    for regime in rules.regimes:
        for limit in regime.limits:
            if limit.pollutant not in ("pm10", "no2", "pm25"):
                continue
            periods = len(days) if limit.averaging == "day" else len(days) * 24
            valid = len(valid_means) if limit.averaging == "day" else int(periods * 0.9)
            count = int((means >= air.exceedance_floor(limit.value)).sum()) if limit.id == "pm10_daily" else (k % 3)
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
    history: dict[str, list[float]] = {}
    while day <= last:
        write_daily_day(out, day, units, with_indicators=(last - day).days < indicator_days, since=since, history=history)
        day += timedelta(days=1)
