"""Builders of the air-quality and noise indicator datasets (pure rules in `iotorino.indicators`).

- `air_quality_index_hourly`: per street unit and hour, every pollutant's
  validity-aware hourly value with its coverage, and the EEA index;
- `air_quality_daily`: per unit, day and pollutant, the daily mean (valid with
  75 % of the day's hours, at least 18) with its capture;
- `air_quality_indicators`: per unit, day, regime and limit, the year-to-date
  standing (exceedances, percentile, allowances left, projection, annual mean);
- `noise_daily`: per unit and day, L_day/L_evening/L_night/L_den and the DPCM
  day/night L_Aeq with coverage, and the year so far (the directive's long-term
  L_day/L_evening/L_night/L_den from 1 January, with its capture).

Hourly values come from the store's per-hour count and mean and the unit's
reporting interval (inventory). The day being exported is read once per export
run (`ExportContext.hourly_stats`, shared with `air_quality_hourly`); the year
before it from the exported `air_quality_index_hourly` partitions where they
exist (same rules, so the same values) and from the store for the days that
have none.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iotorino.core import catalogue as catalogue_mod
from iotorino.export import air_year, expected, query
from iotorino.export.columns import HOUR_COLUMNS, Column
from iotorino.export.model import Built, ExportContext
from iotorino.export.parquet import PART_NAME, partition_dir
from iotorino.export.window import HOUR_NS, DayWindow, local_day, local_label
from iotorino.indicators import QUALITY_LABEL, air, eaqi, limits, noise

log = logging.getLogger(__name__)

MEASUREMENT = "air_quality"
POLLUTANTS = ("pm25", "pm10", "no2", "o3", "co", "pm1")
INDEX_DATASET = "air_quality_index_hourly"
STREET_TAGS = ["unit", "district"]
YEAR_CHUNK_HOURS = 7 * 24 + 1  # reading the year so far: a week of hourly statistics per query (DST: 169 h)

UNIT_ID = Column("unit_id", pa.string(), "Street-furniture unit id from the inventory (hardware/street_units.json).")
DISTRICT = Column("district", pa.int8(), "Circoscrizione (1-8) the unit stands in.")
DATE = Column("local_date", pa.date32(), "Giorno locale (Europe/Rome) della riga; the local day the row describes "
              "(the same as the partition key `date`).", "Europe/Rome")
QUALITY = Column(
    "quality", pa.string(),
    "Indicativo, non validato: sensori a basso costo, non stazioni di riferimento (Dir. 2024/2881 art. 4). "
    "Indicative, not validated: low-cost sensors, not reference stations.",
)


@dataclass
class UnitHours:
    """One unit's validated hourly values of one local day, by pollutant (None: invalid or missing hour)."""

    district: int | None
    values: dict[str, list[float | None]]
    coverage: dict[str, list[float | None]]


# --- hourly values ---------------------------------------------------------------------------


def day_hours(ctx: ExportContext) -> dict[str, UnitHours]:
    """Every unit's validated hourly values for the context's local day, from the day's shared hourly statistics.

    The statistics are the ones `air_quality_hourly` reads (same fields and tags), so
    the datasets of one export run read the store once for the day.
    """
    spec = catalogue_mod.default().measurement(MEASUREMENT)
    fields = [f for f, s in spec.fields.items() if s.kind == "gauge"]  # as the hourly dataset asks: one cache key
    rows = ctx.hourly_stats(MEASUREMENT, fields, STREET_TAGS)
    return unit_hours(rows, [ctx.window], ctx.inventory)[ctx.window.day]


def store_hours(client, windows: list[DayWindow], inventory, chunk_hours: int) -> dict[date, dict[str, UnitHours]]:
    """Validated hourly values by local day and unit for consecutive local days `windows`, in one chunked read."""
    rows = query.hourly_stats(client, MEASUREMENT, list(POLLUTANTS), STREET_TAGS, windows[0].start_ns, windows[-1].end_ns,
                              chunk_hours=chunk_hours)
    return unit_hours(rows, windows, inventory)


def unit_hours(rows: Iterable[query.Row], windows: list[DayWindow], inventory) -> dict[date, dict[str, UnitHours]]:
    """Validated hourly values by local day and unit from hourly statistics rows (`{field}_count/_mean`)."""
    rules = limits.default().validity
    interval = expected.intervals(inventory, "street", MEASUREMENT)
    slot = {t: (w, i) for w in windows for i, t in enumerate(w.hour_starts_ns())}
    out: dict[date, dict[str, UnitHours]] = {w.day: {} for w in windows}
    for row in rows:
        where, unit = slot.get(row.time_ns), row.tags.get("unit")
        if where is None or not unit:
            continue
        window, i = where
        units = out[window.day]
        entry = units.get(unit)
        if entry is None:
            entry = units[unit] = UnitHours(_district(row.tags.get("district")),
                                            {p: [None] * window.hours for p in POLLUTANTS},
                                            {p: [None] * window.hours for p in POLLUTANTS})
        seconds = interval(row.tags)
        for p in POLLUTANTS:
            count = int(row.values.get(f"{p}_count") or 0)
            hv = air.hour_value(count, row.values.get(f"{p}_mean"), seconds, rules)
            entry.values[p][i] = hv.value
            entry.coverage[p][i] = hv.coverage if count else None
    return out


def _district(text) -> int | None:
    return int(text) if text is not None and str(text).isdigit() else None


def index_columns() -> list[Column]:
    """The columns of `air_quality_index_hourly`."""
    spec = catalogue_mod.default().measurement(MEASUREMENT)
    out = [UNIT_ID, DISTRICT, *HOUR_COLUMNS]
    for p in POLLUTANTS:
        f = spec.fields[p]
        out.append(Column(f"{p}_hourly", pa.float64(),
                          f"Media oraria valida (≥ 75 % dell'ora coperta), vuota se non valida. Valid hourly mean "
                          f"(≥ 75 % of the hour covered), empty when invalid: {f.description}", f.unit))
        out.append(Column(f"{p}_coverage", pa.float64(),
                          f"Quota (0-1) dell'ora coperta da dati. Share (0-1) of the hour covered by data: {p}.", "1"))
    bands = limits.default().eaqi
    out += [
        Column("eaqi_level", pa.int8(), f"Indice europeo di qualità dell'aria, livello 1-6 (1 buona). European Air "
               f"Quality Index level 1-6 (1 good), {bands.version}; the poorest band of the valid hourly values.", "1"),
        Column("eaqi_band_it", pa.string(), "Fascia dell'indice (italiano)."),
        Column("eaqi_band_en", pa.string(), "Index band (English)."),
        Column("eaqi_pollutant", pa.string(), "Inquinante che determina l'indice. Pollutant setting the index."),
        Column("eaqi_version", pa.string(), "Versione dell'indice. Index version and bands."),
        QUALITY,
    ]
    return out


def build_index_hourly(ctx: ExportContext) -> Built:
    """`air_quality_index_hourly` for one local day: one row per unit and hour with any air-quality data."""
    index = limits.default().eaqi
    units = day_hours(ctx)
    columns = index_columns()
    data: dict[str, list] = {c.name: [] for c in columns}
    for unit in sorted(units):
        entry = units[unit]
        for i, start in enumerate(ctx.window.hour_starts_ns()):
            if all(entry.coverage[p][i] is None for p in POLLUTANTS):
                continue
            hour = eaqi.index_hour(index, {p: entry.values[p][i] for p in POLLUTANTS})
            band = index.bands[hour.level - 1] if hour.level else None
            row = {
                "unit_id": unit, "district": entry.district, "date_observed_from": start,
                "date_observed_to": start + HOUR_NS, "local_time_from": local_label(start),
                "eaqi_level": hour.level, "eaqi_band_it": band.name_it if band else None,
                "eaqi_band_en": band.name_en if band else None, "eaqi_pollutant": hour.pollutant,
                "eaqi_version": index.version, "quality": QUALITY_LABEL,
            }
            for p in POLLUTANTS:
                row[f"{p}_hourly"] = entry.values[p][i]
                row[f"{p}_coverage"] = entry.coverage[p][i]
            for name, value in row.items():
                data[name].append(value)
    return Built(columns, data, {"iotorino:eaqi_version": index.version, "iotorino:quality": QUALITY_LABEL})


# --- daily means -----------------------------------------------------------------------------

DAILY_COLUMNS = [
    UNIT_ID, DISTRICT, DATE,
    Column("pollutant", pa.string(), "Inquinante (campo del catalogo). Pollutant (catalogue field): pm25, pm10, no2, o3, co, pm1."),
    Column("hours_in_day", pa.int8(), "Ore del giorno locale (23, 24 o 25). Hours in the local day (23, 24 or 25).", "h"),
    Column("valid_hours", pa.int8(), "Ore con media oraria valida. Hours with a valid hourly value.", "h"),
    Column("required_hours", pa.int8(), "Ore valide richieste: 75 % delle ore del giorno e almeno 18. "
           "Valid hours required: 75 % of the day's hours and at least 18.", "h"),
    Column("capture", pa.float64(), "Quota (0-1) di ore valide sul giorno. Share (0-1) of the day's hours that are valid.", "1"),
    Column("valid", pa.bool_(), "Media giornaliera valida. Whether the daily mean is valid."),
    Column("daily_mean", pa.float64(), "Media giornaliera delle ore valide; vuota se il giorno non è valido. "
           "Daily mean of the valid hours; empty when the day is invalid.", "see unit column"),
    Column("max_hourly", pa.float64(), "Massima media oraria valida. Highest valid hourly value.", "see unit column"),
    Column("unit", pa.string(), "Unità di misura. Unit of the values (ug/m3 or mg/m3)."),
    QUALITY,
]


def build_daily(ctx: ExportContext) -> Built:
    """`air_quality_daily` for one local day: one row per unit and pollutant with any hour of data."""
    rules = limits.default().validity
    spec = catalogue_mod.default().measurement(MEASUREMENT)
    units = day_hours(ctx)
    data: dict[str, list] = {c.name: [] for c in DAILY_COLUMNS}
    for unit in sorted(units):
        entry = units[unit]
        for p in POLLUTANTS:
            if all(c is None for c in entry.coverage[p]):
                continue
            d = air.day_value(entry.values[p], ctx.window.hours, rules)
            for name, value in (
                ("unit_id", unit), ("district", entry.district), ("local_date", ctx.window.day), ("pollutant", p),
                ("hours_in_day", d.hours_in_day), ("valid_hours", d.valid_hours), ("required_hours", d.required_hours),
                ("capture", d.capture), ("valid", d.valid), ("daily_mean", d.mean), ("max_hourly", d.max_hour),
                ("unit", spec.fields[p].unit), ("quality", QUALITY_LABEL),
            ):
                data[name].append(value)
    return Built(DAILY_COLUMNS, data, {"iotorino:validity": rules.citation, "iotorino:quality": QUALITY_LABEL})


# --- year to date ----------------------------------------------------------------------------

INDICATOR_COLUMNS = [
    UNIT_ID, DISTRICT, DATE,
    Column("regime", pa.string(), "Regime normativo: dir2008_50 (in vigore) o dir2024_2881_2030 (dal 2030). "
           "Legal regime: dir2008_50 (in force) or dir2024_2881_2030 (from 2030)."),
    Column("regime_applies", pa.bool_(), "Il regime vale per l'anno del giorno. Whether the regime governs this year."),
    Column("limit_id", pa.string(), "Valore limite (schemas/air_quality_limits.yaml). Limit value id."),
    Column("pollutant", pa.string(), "Inquinante. Pollutant."),
    Column("averaging", pa.string(), "Periodo di mediazione: hour, day, year. Averaging period."),
    Column("limit_value", pa.float64(), "Valore limite. Limit value.", "see unit column"),
    Column("unit", pa.string(), "Unità di misura. Unit (ug/m3 or mg/m3)."),
    Column("allowed_exceedances", pa.int16(), "Superamenti consentiti per anno civile; vuoto per i limiti annuali. "
           "Exceedances allowed per calendar year; empty for annual limits.", "count"),
    Column("periods_elapsed", pa.int16(), "Periodi (ore o giorni) trascorsi dal 1° gennaio. Periods elapsed since 1 January.", "count"),
    Column("periods_valid", pa.int16(), "Periodi con valore valido. Periods with a valid value.", "count"),
    Column("capture", pa.float64(), "Quota (0-1) di periodi validi finora. Share (0-1) of elapsed periods that are valid.", "1"),
    Column("capture_sufficient", pa.bool_(), "Raccolta dati ≥ 90 % (2008/50/CE All. I). Data capture at least 90 %."),
    Column("exceedances_ytd", pa.int16(), "Superamenti dall'inizio dell'anno. Exceedances so far this year.", "count"),
    Column("remaining_allowed", pa.int16(), "Superamenti ancora consentiti prima di violare il limite. "
           "Exceedances still allowed before the limit is broken.", "count"),
    Column("limit_broken", pa.bool_(), "Superamenti oltre il numero consentito. More exceedances than allowed."),
    Column("projected_exceedances", pa.float64(), "Proiezione all'anno: superamenti finora + tasso tra i periodi validi "
           "× periodi rimanenti. Projection: exceedances so far + their rate × periods left in the year.", "count"),
    Column("projected_broken", pa.bool_(), "La proiezione supera il numero consentito. The projection exceeds the allowance."),
    Column("percentile", pa.float64(), "Percentile corrispondente ai superamenti consentiti (rango più vicino). "
           "Percentile that goes with the allowed count (nearest rank).", "%"),
    Column("percentile_value", pa.float64(), "Valore di quel percentile sui periodi validi. That percentile of the valid values.",
           "see unit column"),
    Column("annual_mean_ytd", pa.float64(), "Media annuale finora (limiti annuali), vuota se la raccolta è < 90 %. "
           "Year-to-date annual mean (annual limits), empty when capture is below 90 %.", "see unit column"),
    Column("citation", pa.string(), "Fonte normativa. Legal source (annex)."),
    QUALITY,
]


@dataclass
class YearValues:
    """Every unit's validated hourly values from 1 January to a day: one array per pollutant, units × hours.

    `units[u]` is row u's unit id and `districts[u]` its district (from the first day it has data);
    NaN marks an invalid or missing hour; `hours_per_day` are the local days' hours (23, 24 or 25).
    """

    units: list[str]
    districts: list[int | None]
    hours_per_day: list[int]
    values: dict[str, np.ndarray]


@dataclass
class _DayBlock:
    """One local day's hourly values as flat rows: the unit (index into `units`), the hour, a value per pollutant."""

    units: list[str]
    districts: list[int | None]
    unit_of: np.ndarray
    hour_of: np.ndarray
    values: dict[str, np.ndarray]


def year_values(ctx: ExportContext, out_dir: Path | None) -> YearValues:
    """Every unit's validated hourly values from 1 January to the context's day, for the limited pollutants.

    The day itself comes from the run's shared hourly statistics (`ExportContext.hourly_stats`);
    earlier days from `air_quality_index_hourly` partitions when present (read column-wise), else the store.
    """
    first = date(ctx.window.day.year, 1, 1)
    days = [first + timedelta(days=k) for k in range((ctx.window.day - first).days + 1)]
    kept = limited_pollutants(limits.default())  # a year of values only for pollutants with a limit: memory
    hours_per_day = [local_day(d).hours for d in days]
    offsets = dict(zip(days, np.concatenate([[0], np.cumsum(hours_per_day)[:-1]]).tolist()))
    year = _Growing(kept, sum(hours_per_day))
    seen: dict[date, tuple[list[str], list[int | None]]] = {}  # each day's units and districts; values go into `year`

    def take(day: date, block: _DayBlock) -> None:
        year.add(block, offsets[day])
        seen[day] = (block.units, block.districts)

    for day in days[:-1]:
        block = _read_index_partition(out_dir, local_day(day), kept) if out_dir is not None else None
        if block is not None:
            take(day, block)
    # The day itself: the statistics the run's other air-quality datasets share (read once).
    take(ctx.window.day, _block(day_hours(ctx), ctx.window.hours, kept))
    missing = [d for d in days if d not in seen]
    while missing:  # runs of up to a week of consecutive days without a partition: one store read each
        run = [missing.pop(0)]
        while missing and missing[0] == run[-1] + timedelta(days=1) and len(run) < 7:
            run.append(missing.pop(0))
        for day, units in store_hours(ctx.client, [local_day(d) for d in run], ctx.inventory, YEAR_CHUNK_HOURS).items():
            take(day, _block(units, local_day(day).hours, kept))
    districts: dict[str, int | None] = {}
    for day in days:  # a unit's district: from the first day it has data
        for unit, district in zip(*seen[day]):
            districts.setdefault(unit, district)
    units = list(year.row_of)
    return YearValues(units, [districts[u] for u in units], hours_per_day,
                      {p: v[:len(units)] for p, v in year.values.items()})


class _Growing:
    """Units × hours arrays that gain a row for each unit first met, in any order of the days."""

    def __init__(self, pollutants: Sequence[str], hours: int):
        self.row_of: dict[str, int] = {}
        self.values = {p: np.full((0, hours), np.nan) for p in pollutants}

    def add(self, block: _DayBlock, offset: int) -> None:
        """Put one day's `block` at hour `offset` of the year."""
        for unit in block.units:
            self.row_of.setdefault(unit, len(self.row_of))
        for p, v in self.values.items():
            if len(v) < len(self.row_of):  # the first day's units exactly, later a quarter more room (few copies)
                grown = np.full((len(self.row_of) + (len(self.row_of) // 4 + 8 if len(v) else 0), v.shape[1]), np.nan)
                grown[:len(v)] = v
                self.values[p] = grown
        rows = np.array([self.row_of[u] for u in block.units], dtype=np.int64)[block.unit_of]
        for p, v in self.values.items():
            v[rows, offset + block.hour_of] = block.values[p]


def _block(units: Mapping[str, UnitHours], hours: int, pollutants: Sequence[str]) -> _DayBlock:
    n = len(units)
    return _DayBlock(list(units), [e.district for e in units.values()],
                     np.repeat(np.arange(n), hours), np.tile(np.arange(hours), n),
                     {p: np.array([v for e in units.values() for v in e.values[p]], dtype=np.float64).reshape(-1)
                      if n else np.empty(0) for p in pollutants})


def limited_pollutants(rules: limits.Rules) -> tuple[str, ...]:
    """The pollutants some regime sets a limit value for, in `POLLUTANTS` order."""
    wanted = {x.pollutant for r in rules.regimes for x in r.limits}
    return tuple(p for p in POLLUTANTS if p in wanted)


def _read_index_partition(out_dir: Path, window: DayWindow, pollutants: Sequence[str]) -> _DayBlock | None:
    path = partition_dir(out_dir, INDEX_DATASET, window.day) / PART_NAME
    if not path.exists():
        return None
    names = ["unit_id", "district", "date_observed_from"] + [f"{p}_hourly" for p in pollutants]
    table = pq.read_table(path, columns=names)
    table = table.filter(pc.is_valid(table["unit_id"]))
    encoded = table["unit_id"].combine_chunks().dictionary_encode()  # dictionary in order of first appearance
    unit_of = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    first_row = np.unique(unit_of, return_index=True)[1]
    districts = table["district"].take(pa.array(first_row)).to_pylist()
    stamps = table["date_observed_from"]
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[stamps.type.unit]
    seconds = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False) // per_second  # whole seconds, as the hour slots
    since = seconds * 1_000_000_000 - window.start_ns
    hour_of = since // HOUR_NS
    at = (since % HOUR_NS == 0) & (hour_of >= 0) & (hour_of < window.hours)
    return _DayBlock(encoded.dictionary.to_pylist(), districts, unit_of[at], hour_of[at],
                     {p: table[f"{p}_hourly"].to_numpy(zero_copy_only=False).astype(np.float64)[at] for p in pollutants})


def unit_statuses(day_lists: Mapping[str, list[list[float | None]]], day_hours_counts: list[int], year: int,
                  rules: limits.Rules, ends: Sequence[int] | None = None
                  ) -> Iterable[tuple[limits.Regime, int, air.LimitStatus]]:
    """Every regime's limit statuses for one unit from its day-by-day hourly values of the year so far.

    The per-unit path, over lists and `air.limit_statuses` (a backfill's day ends); one day's export
    takes every unit at once through `year_statuses`.

    Yields (regime, days elapsed, status) after each number of days in `ends`
    (default: only after all the days given); a backfill asks for every day at once.
    """
    days_in_year = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    ends = list(ends) if ends is not None else [len(day_hours_counts)]
    hour_ends = [sum(day_hours_counts[:e]) for e in ends]
    cache: dict[str, tuple[list, list]] = {}
    for regime in rules.regimes:
        for limit in regime.limits:
            if limit.pollutant not in day_lists:
                continue
            if limit.pollutant not in cache:
                by_day = day_lists[limit.pollutant]
                hourly = [v for day in by_day for v in day]
                daily = [air.day_value(day, n, rules.validity).mean for day, n in zip(by_day, day_hours_counts)]
                cache[limit.pollutant] = (hourly, daily)
            hourly, daily = cache[limit.pollutant]
            if limit.averaging == "day":
                statuses = air.limit_statuses(limit, daily, ends, days_in_year, rules.validity)
            else:
                statuses = air.limit_statuses(limit, hourly, hour_ends, days_in_year * 24, rules.validity)
            for days, status in zip(ends, statuses):
                yield regime, days, status


def year_statuses(values: Mapping[str, np.ndarray], hours_per_day: Sequence[int], year: int, rules: limits.Rules
                  ) -> dict[tuple[str, str], list[air.LimitStatus]]:
    """Every regime's limit statuses for every unit after the days of `hours_per_day`, by (regime id, limit id).

    `values` are the hourly values by pollutant, units × hours (NaN: invalid); a status list has one entry
    per unit row. The array twin of `unit_statuses` (same rules, same arithmetic: tests/export/test_air_year.py).
    """
    days_in_year = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    out: dict[tuple[str, str], list[air.LimitStatus]] = {}
    tallies: dict[tuple[str, str], air_year.Tallies] = {}
    for regime in rules.regimes:
        for limit in regime.limits:
            if limit.pollutant not in values:
                continue
            key = (limit.pollutant, "day" if limit.averaging == "day" else "hour")
            if key not in tallies:
                hourly = values[limit.pollutant]
                tallies[key] = air_year.Tallies(
                    air_year.day_means(hourly, hours_per_day, rules.validity) if key[1] == "day" else hourly)
            periods = days_in_year if key[1] == "day" else days_in_year * 24
            out[(regime.id, limit.id)] = air_year.statuses(limit, tallies[key], periods, rules.validity)
    return out


def build_indicators(ctx: ExportContext) -> Built:
    """`air_quality_indicators` for one local day: one row per unit, regime and limit, year to date."""
    rules = limits.default()
    year = year_values(ctx, ctx.out_dir)
    by_limit = year_statuses(year.values, year.hours_per_day, ctx.window.day.year, rules)
    regimes = {r.id: r for r in rules.regimes}
    data: dict[str, list] = {c.name: [] for c in INDICATOR_COLUMNS}
    spec = catalogue_mod.default().measurement(MEASUREMENT)
    for row in sorted(range(len(year.units)), key=year.units.__getitem__):
        unit = year.units[row]
        for (regime_id, _), per_unit in by_limit.items():
            regime, s = regimes[regime_id], per_unit[row]
            limit = s.limit
            for name, value in (
                ("unit_id", unit), ("district", year.districts[row]), ("local_date", ctx.window.day), ("regime", regime.id),
                ("regime_applies", regime.applies_to(ctx.window.day.year)), ("limit_id", limit.id),
                ("pollutant", limit.pollutant), ("averaging", limit.averaging), ("limit_value", float(limit.value)),
                ("unit", spec.fields[limit.pollutant].unit), ("allowed_exceedances", limit.allowed),
                ("periods_elapsed", s.periods_elapsed), ("periods_valid", s.periods_valid), ("capture", s.capture),
                ("capture_sufficient", s.valid), ("exceedances_ytd", s.exceedances), ("remaining_allowed", s.remaining),
                ("limit_broken", s.broken), ("projected_exceedances", s.projected), ("projected_broken", s.projected_broken),
                ("percentile", limit.percentile), ("percentile_value", s.percentile_value),
                ("annual_mean_ytd", s.annual_mean), ("citation", limit.citation), ("quality", QUALITY_LABEL),
            ):
                data[name].append(value)
    meta = {"iotorino:regimes": "; ".join(f"{r.id}: {r.title_it} / {r.title_en}" for r in rules.regimes),
            "iotorino:quality": QUALITY_LABEL}
    return Built(INDICATOR_COLUMNS, data, meta)


# --- noise -----------------------------------------------------------------------------------


def noise_columns() -> list[Column]:
    """The columns of `noise_daily`."""
    out = [UNIT_ID, DISTRICT, DATE]
    texts = {
        "l_day": ("L_day 06-20 (D.Lgs. 194/2005)", "den", "day"),
        "l_evening": ("L_evening 20-22 (D.Lgs. 194/2005)", "den", "evening"),
        "l_night": ("L_night 22-06 del giorno seguente / of the next day (D.Lgs. 194/2005)", "den", "night"),
        "dpcm_day": ("L_Aeq diurno / daytime 06-22 (DPCM 14/11/1997)", "dpcm", "day"),
        "dpcm_night": ("L_Aeq notturno / night-time 22-06 del giorno seguente / of the next day (DPCM 14/11/1997)", "dpcm", "night"),
    }
    for name, (text, _, _) in texts.items():
        out.append(Column(name, pa.float64(), f"{text}; media energetica, vuota se copertura < 75 %. "
                          "Energetic mean, empty when coverage is below 75 %.", "dB(A)"))
        out.append(Column(f"{name}_coverage", pa.float64(), f"Quota (0-1) del periodo coperta da dati. Share (0-1) of the period covered: {name}.", "1"))
    out.append(Column("l_den", pa.float64(), "L_den del giorno con penalità +5 dB sera e +10 dB notte, pesi 14/2/8 h; "
                      "aggregato giornaliero (il L_den della direttiva è annuale). Daily L_den with +5/+10 dB penalties, "
                      "weights 14/2/8 h; a daily aggregate (the directive's L_den is yearly).", "dB(A)"))
    for name, period in YTD_LEVELS.items():
        out.append(Column(f"{name}_ytd", pa.float64(), f"{period} from 1 January to this day: energetic mean of the "
                          "year's valid daily levels; empty unless valid on 75 % of the days elapsed.", "dB(A)"))
    out += [
        Column("l_den_ytd", pa.float64(), "L_den from 1 January to this day (the directive's yearly indicator, so far): "
               "from l_day_ytd, l_evening_ytd and l_night_ytd with +5/+10 dB penalties and 14/2/8 h weights; empty "
               "unless all three are valid.", "dB(A)"),
        Column("ytd_days", pa.int16(), "Days elapsed from 1 January to this day, both included.", "d"),
        Column("ytd_capture", pa.float64(), "Share (0-1) of the days elapsed with a valid level, for the period "
               "with the fewest (the share l_den_ytd rests on).", "1"),
    ]
    out.append(QUALITY)
    return out


YTD_LEVELS = {"l_day": "L_day", "l_evening": "L_evening", "l_night": "L_night"}  # column -> name; den period = suffix


def noise_year_to_date(out_dir: Path | None, day: date, today: dict[str, dict[str, float | None]],
                       rules: limits.NoiseRules) -> dict[str, noise.YearToDate]:
    """Per unit, the long-term levels from 1 January to `day`: the earlier days from the exported
    `noise_daily` partitions in `out_dir` (a day not exported counts as a day without data), `day` from `today`
    ({unit: {period: level or None}})."""
    first = date(day.year, 1, 1)
    daily: dict[str, list[dict[str, float | None]]] = defaultdict(list)
    names = ["unit_id", *YTD_LEVELS]
    for k in range((day - first).days):
        path = partition_dir(out_dir, "noise_daily", first + timedelta(days=k)) / PART_NAME if out_dir else None
        if path is None or not path.exists():
            continue
        table = pq.read_table(path, columns=names).to_pydict()
        for r, unit in enumerate(table["unit_id"]):
            daily[unit].append({column.removeprefix("l_"): table[column][r] for column in YTD_LEVELS})
    for unit, levels in today.items():
        daily[unit].append(levels)
    days = (day - first).days + 1
    return {unit: noise.year_to_date(levels, days, rules) for unit, levels in daily.items() if unit in today}


NOISE_PERIODS = {"l_day": ("den", "day"), "l_evening": ("den", "evening"), "l_night": ("den", "night"),
                 "dpcm_day": ("dpcm", "day"), "dpcm_night": ("dpcm", "night")}


def build_noise_daily(ctx: ExportContext) -> Built:
    """`noise_daily` for local day D: 06:00 D to 06:00 D+1 (the night of D ends on D+1)."""
    rules = limits.default().noise
    day = ctx.window.day
    start_ns, end_ns = noise.den_window(day, rules)
    interval = expected.intervals(ctx.inventory, "street", "noise")
    series: dict[str, tuple[dict, list[int], list[float]]] = {}
    for row in ctx.raw_points("noise", ["laeq"], STREET_TAGS, start_ns, end_ns):
        value = row.values.get("laeq")
        if value is None or not row.tags.get("unit"):
            continue
        tags, times, levels = series.setdefault(row.tags["unit"], (dict(row.tags), [], []))
        times.append(row.time_ns)
        levels.append(float(value))
    columns = noise_columns()
    data: dict[str, list] = {c.name: [] for c in columns}
    rows = []
    for unit in sorted(series):
        tags, times, levels = series[unit]
        seconds = interval(tags)
        if not seconds:
            log.warning("noise_daily: unit %s has no reporting interval in the inventory; skipped", unit)
            continue
        order = sorted(range(len(times)), key=times.__getitem__)
        result = noise.noise_day(day, [times[i] for i in order], [levels[i] for i in order], seconds, rules)
        row = {"unit_id": unit, "district": _district(tags.get("district")), "local_date": day, "l_den": result.lden,
               "quality": QUALITY_LABEL}
        for name, (group, period) in NOISE_PERIODS.items():
            level = getattr(result, group)[period]
            row[name] = level.level
            row[f"{name}_coverage"] = level.coverage
        rows.append(row)
    today = {r["unit_id"]: {name.removeprefix("l_"): r[name] for name in YTD_LEVELS} for r in rows}
    year = noise_year_to_date(ctx.out_dir, day, today, rules)
    for row in rows:
        ytd = year[row["unit_id"]]
        row.update({f"{name}_ytd": ytd.levels[name.removeprefix("l_")] for name in YTD_LEVELS})
        row.update({"l_den_ytd": ytd.lden, "ytd_days": ytd.days, "ytd_capture": ytd.min_capture})
        for name in data:
            data[name].append(row[name])
    return Built(columns, data, {"iotorino:periods": f"{rules.den_citation}; {rules.dpcm_citation}",
                                 "iotorino:quality": QUALITY_LABEL})
